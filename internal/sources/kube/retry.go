package kube

import (
	"context"
	"errors"
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// outageRetry is how often list and watch calls are retried while the API
// server is unreachable.
const outageRetry = 250 * time.Millisecond

// retryLW is a ListerWatcher that waits out API server outages itself,
// retrying every outageRetry, instead of returning the error to the
// informer's reflector. The reflector backs off exponentially on errors (up
// to a minute with jitter), which after a 30-second outage would leave
// Strait blind for tens of seconds more; this way it catches up within a
// fraction of a second of the API's return. Errors the API server itself
// returns (forbidden, gone, invalid) go to the reflector as they are.
type retryLW struct {
	src   *Source
	tweak func(*metav1.ListOptions)
	list  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
}

// List implements cache.Lister.
func (l *retryLW) List(o metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(l.src.stop, o)
}

// Watch implements cache.Watcher.
func (l *retryLW) Watch(o metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(l.src.stop, o)
}

// ListWithContext implements cache.ListerWithContext.
func (l *retryLW) ListWithContext(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
	if l.tweak != nil {
		l.tweak(&o)
	}
	return retry(ctx, l.src, func() (runtime.Object, error) { return l.list(ctx, o) })
}

// WatchWithContext implements cache.WatcherWithContext.
func (l *retryLW) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	if l.tweak != nil {
		l.tweak(&o)
	}
	return retry(ctx, l.src, func() (watch.Interface, error) { return l.watch(ctx, o) })
}

func retry[T any](ctx context.Context, s *Source, call func() (T, error)) (T, error) {
	for {
		v, err := call()
		if err == nil {
			s.recovered()
			return v, nil
		}
		if !unreachable(err) || ctx.Err() != nil || s.stop.Err() != nil {
			return v, err
		}
		s.unreachable(err)
		select {
		case <-ctx.Done():
			return v, err
		case <-s.stop.Done():
			return v, err
		case <-time.After(outageRetry):
		}
	}
}

// unreachable tells connection failures and overload from answers.
func unreachable(err error) bool {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		code := int(st.Status().Code)
		return code == 0 || code >= http.StatusInternalServerError || code == http.StatusTooManyRequests
	}
	return true
}
