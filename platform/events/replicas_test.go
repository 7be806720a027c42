package events_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modshop/modshop/platform/events"
	"github.com/modshop/modshop/platform/testkit"
)

// Two replicas replay the same dead letters at once (an admin's retry
// reaching another process behind the load balancer): each dead letter is
// handled exactly once and marked replayed; a replay that lost the race
// answers ErrNoDeadLetter or finds the event handled already.
func TestReplicasReplayEachDeadLetterOnce(t *testing.T) {
	t.Parallel()
	testkit.ForEachDB(t, func(t *testing.T, db testkit.DB) {
		h := &Hooks{}
		s1, demo := shop(t, db, h)
		s2, _ := shop(t, db, h)
		ctx := t.Context()
		const n = 6
		for i := range n {
			if err := demo.Create(ctx, ItemCreated{ID: fmt.Sprintf("dead-%02d", i), Aggregate: "dead", Seq: i + 1, Behaviour: "poison"}); err != nil {
				t.Fatal(err)
			}
		}
		g := peek(t, db)
		waitCount(t, g, 30*time.Second, n, "SELECT COUNT(*) FROM audit_dead_letters WHERE consumer = 'audit.poison'")
		var ids []int64
		if err := g.Raw("SELECT id FROM audit_dead_letters ORDER BY id").Scan(&ids).Error; err != nil {
			t.Fatal(err)
		}

		h.Fix()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, id := range ids {
			for _, s := range []*testkit.Shop{s1, s2} {
				wg.Go(func() {
					<-start
					if err := s.Runtime.Bus().Replay(ctx, "audit", id); err != nil && !errors.Is(err, events.ErrNoDeadLetter) {
						t.Errorf("replay %d: %v", id, err)
					}
				})
			}
		}
		close(start)
		wg.Wait()

		for i := range n {
			id := fmt.Sprintf("dead-%02d", i)
			if c := count(t, g, "SELECT COUNT(*) FROM audit_log WHERE consumer = 'audit.poison' AND event_id = ?", id); c != 1 {
				t.Errorf("%s handled %d times by its replays, want once", id, c)
			}
		}
		if c := count(t, g, "SELECT COUNT(*) FROM audit_dead_letters WHERE replayed_at IS NULL"); c != 0 {
			t.Errorf("%d dead letters not marked replayed", c)
		}
	})
}
