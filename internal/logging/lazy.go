// Package logging holds what orgsync adds to controller-runtime's logging.
package logging

import "github.com/go-logr/logr"

// Lazy defers the key/value pairs a logger is given with WithValues until a line is written at a
// level that is enabled. controller-runtime gives every reconcile a logger with five such pairs, and
// zap encodes pairs eagerly: with 10,000 OrgUsers a minute, that encoding was the largest single
// allocation of the manager (17 % of all bytes) for lines that are almost never written.
func Lazy(l logr.Logger) logr.Logger {
	base := l.GetSink()
	if base == nil {
		return l
	}
	// One frame more between the caller and base: lazySink's own method. (WithSink does not call
	// Init, so the depth is added here.)
	if withDepth, ok := base.(logr.CallDepthLogSink); ok {
		base = withDepth.WithCallDepth(1)
	}
	return l.WithSink(&lazySink{base: base})
}

type lazySink struct {
	base logr.LogSink
	// values are the pairs not yet handed to base, in order.
	values []any
}

var (
	_ logr.LogSink          = (*lazySink)(nil)
	_ logr.CallDepthLogSink = (*lazySink)(nil)
)

func (s *lazySink) Init(info logr.RuntimeInfo) {
	// One frame more: lazySink's own method sits between the caller and base.
	info.CallDepth++
	s.base.Init(info)
}

func (s *lazySink) Enabled(level int) bool { return s.base.Enabled(level) }

func (s *lazySink) Info(level int, msg string, keysAndValues ...any) {
	s.resolved().Info(level, msg, keysAndValues...)
}

func (s *lazySink) Error(err error, msg string, keysAndValues ...any) {
	s.resolved().Error(err, msg, keysAndValues...)
}

// WithValues keeps the pairs; the slice is copied so that loggers derived from one parent do not
// share appends.
func (s *lazySink) WithValues(keysAndValues ...any) logr.LogSink {
	values := make([]any, 0, len(s.values)+len(keysAndValues))
	values = append(append(values, s.values...), keysAndValues...)
	return &lazySink{base: s.base, values: values}
}

// WithName hands the pending pairs over first, so names and pairs keep the order they were given in.
func (s *lazySink) WithName(name string) logr.LogSink {
	return &lazySink{base: s.resolved().WithName(name)}
}

func (s *lazySink) WithCallDepth(depth int) logr.LogSink {
	base := s.base
	if withDepth, ok := base.(logr.CallDepthLogSink); ok {
		base = withDepth.WithCallDepth(depth)
	}
	return &lazySink{base: base, values: s.values}
}

// resolved is base with the pending pairs, made only when a line is written.
func (s *lazySink) resolved() logr.LogSink {
	if len(s.values) == 0 {
		return s.base
	}
	return s.base.WithValues(s.values...)
}
