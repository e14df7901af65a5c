-- add-header: tells the upstream which client and scheme a request came
-- from, and tags every response.
--
-- Configuration (strait.dev/plugin.add-header.<key> annotations):
--   tag   the X-Served-By value on responses (default "strait")
local _M = {}

function _M.rewrite(conf)
  ngx.req.set_header("X-Client-Addr", ngx.var.remote_addr)
  ngx.req.set_header("X-Client-Scheme", ngx.var.scheme)
  -- ngx.ctx lives for one request, across its phases.
  ngx.ctx.started = ngx.now()
end

function _M.header_filter(conf)
  ngx.header["X-Served-By"] = conf.tag or "strait"
end

return _M
