package oidc

/*
#include <oidc.h>

// goOidcLog (below) as _cgo_export.h declares it; SetLogger hands it to liboidc as oidc_log_cb.
extern void goOidcLog(void *user_data, uint32_t level, char *target, size_t target_len, char *message, size_t message_len);
*/
import "C"

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"unsafe"
)

// LevelTrace is the slog level of liboidc's trace messages (below slog.LevelDebug).
const LevelTrace = slog.LevelDebug - 4

// slogLevel maps liboidc's log levels (1 error, 2 warn, 3 info, 4 debug, 5 trace) to slog's.
func slogLevel(level uint32) slog.Level {
	switch level {
	case 1:
		return slog.LevelError
	case 2:
		return slog.LevelWarn
	case 3:
		return slog.LevelInfo
	case 4:
		return slog.LevelDebug
	}
	return LevelTrace
}

var (
	logMu     sync.Mutex                  // serialises SetLogger
	logTarget atomic.Pointer[slog.Logger] // read by goOidcLog on any thread
	// logDelivered counts the messages liboidc handed to goOidcLog, by liboidc level (for tests:
	// the level filter is liboidc's).
	logDelivered [6]atomic.Int64
)

// SetLogger sends liboidc's log messages to l, process-wide, or stops them when l is nil. A
// later call replaces the logger. Messages are about fetches, refresh failures, cooldown
// suppressions, stale keys served, snapshots, the worker pool; each has the attribute "target"
// naming the component ("oidc::cache", "oidc::discovery", "oidc::pool", "oidc::snapshot", ...)
// and, as liboidc writes them, no tokens, secrets or keys (URLs without query or credentials).
//
// Levels map to slog.LevelError, LevelWarn, LevelInfo, LevelDebug and LevelTrace. liboidc
// formats only the messages l is enabled for at the time of the call: after lowering a
// handler's level (a slog.LevelVar), call SetLogger again.
//
// l is called on any thread, liboidc's own included, concurrently, and inside liboidc calls of
// any goroutine: its handler must be safe for concurrent use, must not block for long, and must
// not call SetLogger. A panic in the handler loses that message (it cannot unwind through
// liboidc).
func SetLogger(l *slog.Logger) error {
	if err := checkLoaded(); err != nil {
		return err
	}
	logMu.Lock()
	defer logMu.Unlock()
	var e *C.oidc_error
	if l == nil {
		if rc := C.oidc_set_log_callback(nil, nil, 0, &e); rc != 0 {
			return errorFrom(rc, e)
		}
		// A message being delivered on another thread meanwhile finds no logger and is dropped.
		logTarget.Store(nil)
		return nil
	}
	prev := logTarget.Swap(l)
	maxLevel := uint32(1)
	for lv := uint32(5); lv > 1; lv-- {
		if l.Enabled(context.Background(), slogLevel(lv)) {
			maxLevel = lv
			break
		}
	}
	if rc := C.oidc_set_log_callback(C.oidc_log_cb(C.goOidcLog), nil, C.uint32_t(maxLevel), &e); rc != 0 {
		logTarget.Store(prev)
		return errorFrom(rc, e)
	}
	return nil
}

// goOidcLog is the oidc_log_cb: the strings are borrowed for the call and not NUL-terminated.
//
//export goOidcLog
func goOidcLog(_ unsafe.Pointer, level C.uint32_t, target *C.char, targetLen C.size_t, message *C.char, messageLen C.size_t) {
	logDelivered[min(uint32(level), 5)].Add(1)
	l := logTarget.Load()
	if l == nil {
		return
	}
	defer func() { _ = recover() }() // a Go panic must not unwind through liboidc's frames
	l.LogAttrs(context.Background(), slogLevel(uint32(level)), C.GoStringN(message, C.int(messageLen)),
		slog.String("target", C.GoStringN(target, C.int(targetLen))))
}
