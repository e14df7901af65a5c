package translate

import (
	"errors"
	"fmt"
)

// notFoundError is an annotation's reference to an object that does not
// exist (yet). Its problem is reported with the reason <Kind>NotFound, as
// a missing Service's is with ServiceNotFound, rather than as an invalid
// annotation: creating the object fixes it, and the admission webhook lets
// such an Ingress in because users create Ingresses before what they name.
type notFoundError struct {
	// kind is the missing object's kind, e.g. "Secret".
	kind string
	msg  string
}

func (e *notFoundError) Error() string { return e.msg }

// notFound returns a notFoundError of kind with the formatted message.
func notFound(kind, format string, args ...any) error {
	return &notFoundError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// annotationReason is the reason of a problem with an annotation: the
// missing object's <Kind>NotFound, else InvalidAnnotation.
func annotationReason(err error) string {
	var nf *notFoundError
	if errors.As(err, &nf) {
		return nf.kind + "NotFound"
	}
	return "InvalidAnnotation"
}
