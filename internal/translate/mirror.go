package translate

import (
	"github.com/straitgw/strait/internal/annotations"
	"github.com/straitgw/strait/internal/model"
)

// mirrorPolicy reads mirror-target, mirror-host and mirror-request-body.
// An invalid target is reported and nothing is mirrored: the requests are
// still served.
func mirrorPolicy(a map[string]string, bad func(error, string)) *model.Mirror {
	var m model.Mirror
	if read(a, &annotations.MirrorTarget, &m.Target, bad, "requests are not mirrored") || m.Target == "" {
		return nil
	}
	read(a, &annotations.MirrorHost, &m.Host, bad, "the target's host is sent")
	body := true
	read(a, &annotations.MirrorRequestBody, &body, bad, "the body is mirrored")
	m.NoBody = !body
	return &m
}
