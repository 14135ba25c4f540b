package oidc

/*
#include <oidc.h>
*/
import "C"

import (
	"runtime/cgo"
	"time"
	"unsafe"
)

// ReplayStore is a replay store shared by a fleet of processes behind one load balancer, so
// that a one-time value replayed to another process is refused too: DPoP proofs
// (Config.DPoPReplayStore) and back-channel logout tokens (OAuthConfig.ReplayStore; keys start
// with "liboidc:logout:"). liboidc always consults its own replay cache first.
type ReplayStore interface {
	// CheckAndRecord atomically records key for ttl if it is not recorded yet (Redis:
	// SET key 1 NX EX ttl) and reports whether it was absent (true: first use) or present
	// (false: a replay). An error means the store could not answer: the request is then denied
	// 503 (CodeReplayStoreUnavailable), never allowed.
	//
	// It is called during Authenticate (ValidateLogoutToken) on the calling goroutine's thread,
	// or on a liboidc worker thread for a non-blocking send, concurrently from any number of
	// requests, and must not call this package. key is ASCII.
	CheckAndRecord(key string, ttl time.Duration) (bool, error)
}

// goOidcReplayStore is the oidc_replay_store_cb: user_data is the cgo.Handle of the Config's
// DPoPReplayStore or the OAuthConfig's ReplayStore; key is borrowed for the call. A panic counts as "store unavailable" (it cannot
// unwind through liboidc).
//
//export goOidcReplayStore
func goOidcReplayStore(userData unsafe.Pointer, key *C.char, keyLen C.size_t, ttlSecs C.uint64_t) (rc C.int32_t) {
	defer func() {
		if recover() != nil {
			rc = -1
		}
	}()
	store, ok := cgo.Handle(uintptr(userData)).Value().(ReplayStore)
	if !ok {
		return -1
	}
	first, err := store.CheckAndRecord(C.GoStringN(key, C.int(keyLen)), time.Duration(ttlSecs)*time.Second)
	switch {
	case err != nil:
		return -1
	case first:
		return 1
	}
	return 0
}
