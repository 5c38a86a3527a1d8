package trail_test

import (
	"context"
	"testing"

	"github.com/realname/realname/internal/trail"
	"github.com/realname/realname/internal/trail/trailtest"
)

// TestMemoryStoreContract runs the Store contract on MemoryStore.
func TestMemoryStoreContract(t *testing.T) {
	trailtest.Run(t, func(*testing.T) trail.Store { return trail.NewMemoryStore() },
		func(_ context.Context, st trail.Store, event []byte) error {
			ev, err := trail.DecodeOutbox(event)
			if err != nil {
				return err
			}
			return st.(*trail.MemoryStore).Enqueue(ev)
		})
}
