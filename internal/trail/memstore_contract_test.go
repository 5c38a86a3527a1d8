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
		func(_ context.Context, st trail.Store, ev trail.Event) error {
			return st.(*trail.MemoryStore).Enqueue(ev)
		})
}
