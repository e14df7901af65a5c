-- token-check: admits a request only with "Authorization: Bearer <token>"
-- where the token's MD5 is the configured one, and counts refusals in a
-- shared dictionary.
--
-- Configuration (strait.dev/plugin.token-check.<key> annotations):
--   md5   the hex MD5 of the accepted token (required)
local _M = {}

function _M.access(conf)
  if not conf.md5 then
    ngx.log(ngx.ERR, "token-check needs strait.dev/plugin.token-check.md5")
    return ngx.exit(ngx.HTTP_INTERNAL_SERVER_ERROR)
  end
  local auth = ngx.req.get_headers()["Authorization"]
  local m = auth and ngx.re.match(auth, [[^Bearer\s+(\S+)$]], "i")
  if not m or ngx.md5(m[1]) ~= conf.md5 then
    local refused = ngx.shared.token_check:incr("refused", 1, 0)
    ngx.log(ngx.INFO, "token-check refused a request; refusals so far: ", refused)
    ngx.header["WWW-Authenticate"] = 'Bearer realm="strait"'
    return ngx.exit(ngx.HTTP_UNAUTHORIZED)
  end
end

return _M
