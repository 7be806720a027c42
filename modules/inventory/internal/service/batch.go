package service

import (
	"context"
	"hash/maphash"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/modshop/modshop/modules/inventory/api"
	"github.com/modshop/modshop/modules/inventory/internal/domain"
	"github.com/modshop/modshop/modules/inventory/internal/store"
)

const (
	// holdShards is how many batches may run at once; a SKU always falls in
	// the same shard, so one shard's queue holds every waiting hold of a hot
	// SKU and a slow SKU delays only its shard.
	holdShards = 4
	// maxHoldBatch bounds how many holds one transaction takes.
	maxHoldBatch = 100
)

// holdBatcher is group commit for one-line holds. A level row admits one
// writer at a time and every commit waits for a disk flush, so one
// transaction per hold caps a hot SKU at one hold per flush. Holds that
// arrive while their shard's transaction is in flight queue in Go instead,
// and the next transaction takes them all: their reservations (one insert),
// one conditional UPDATE per SKU for the sum of its holds (in SKU order, like
// every writer), one stock_changed per SKU and one ledger entry per hold.
//
// It never decides anything the one-by-one path would not. A SKU whose sum
// does not fit in what is available is left unchanged (a failed conditional
// UPDATE changes nothing), its reservations are deleted before commit, and
// each of its holds is retried on its own, so the last units go exactly as
// they would one by one. An id that is repeated or taken already is answered
// on its own too, by Reserve's idempotency rules.
type holdBatcher struct {
	svc  *Service
	seed maphash.Seed

	mu     sync.Mutex
	queues [holdShards][]*holdReq
	led    [holdShards]bool // a shard with a leader running its queue
}

type holdReq struct {
	r     api.Reservation // one line
	actor string
	done  chan holdResult // buffered: a batch never waits for its caller
}

type holdResult struct {
	err   error
	alone bool // not settled in a batch: the caller reserves on its own
}

func newHoldBatcher(s *Service) *holdBatcher {
	return &holdBatcher{svc: s, seed: maphash.MakeSeed()}
}

// reserve queues a one-line reservation in its shard and waits for its
// outcome; alone means the caller must reserve on its own.
func (b *holdBatcher) reserve(ctx context.Context, r api.Reservation, actor string) (alone bool, err error) {
	req := &holdReq{r: r, actor: actor, done: make(chan holdResult, 1)}
	shard := int(maphash.String(b.seed, r.Lines[0].SKU) % holdShards)
	b.mu.Lock()
	b.queues[shard] = append(b.queues[shard], req)
	lead := !b.led[shard]
	b.led[shard] = true
	b.mu.Unlock()
	if lead {
		b.lead(shard)
	}
	select {
	case res := <-req.done:
		return res.alone, res.err
	case <-ctx.Done():
		// The batch may still commit the hold; a retry with the id finds it.
		return false, ctx.Err()
	}
}

// lead runs one batch of the shard's queue, then hands the lead to a new
// goroutine if more holds arrived meanwhile, so no caller waits for batches
// after its own.
func (b *holdBatcher) lead(shard int) {
	b.mu.Lock()
	queue := b.queues[shard]
	n := min(len(queue), maxHoldBatch)
	batch := queue[:n:n]
	b.queues[shard] = queue[n:]
	b.mu.Unlock()

	b.svc.holdBatch(batch)

	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queues[shard]) == 0 {
		b.led[shard] = false
		return
	}
	go b.lead(shard)
}

// holdBatch settles every request of a batch.
func (s *Service) holdBatch(batch []*holdReq) {
	seen := make(map[string]bool, len(batch))
	var group []*holdReq
	for _, req := range batch {
		if seen[req.r.ID] {
			req.done <- holdResult{alone: true}
			continue
		}
		seen[req.r.ID] = true
		group = append(group, req)
	}
	// The batch serves many callers, so no one caller's cancellation ends it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	held, err := s.holdGroup(ctx, group)
	for _, req := range group {
		if err != nil {
			req.done <- holdResult{err: wrap("reserve", req.r.ID, err)}
		} else {
			req.done <- holdResult{alone: !held[req.r.ID]}
		}
	}
}

// holdGroup holds stock for a group of one-line reservations in one
// transaction and returns the ids it reserved.
func (s *Service) holdGroup(ctx context.Context, group []*holdReq) (map[string]bool, error) {
	rs := make([]api.Reservation, len(group))
	for i, req := range group {
		rs[i] = req.r
	}
	var held map[string]bool
	err := s.store.InTx(ctx, func(tx *store.Tx) error {
		inserted, err := tx.InsertReservations(rs)
		if err != nil {
			return err
		}
		sums := map[string]int64{}
		for _, r := range rs {
			if inserted[r.ID] {
				sums[r.Lines[0].SKU] += r.Lines[0].Quantity
			}
		}
		short := map[string]bool{}
		now := s.clock.Now()
		for _, sku := range slices.Sorted(maps.Keys(sums)) {
			lvl, ok, err := tx.Hold(sku, sums[sku], now)
			if err != nil {
				return err
			}
			if !ok {
				short[sku] = true
				continue
			}
			if err := tx.Publish(lvl.Event()); err != nil {
				return err
			}
		}
		held = map[string]bool{}
		var unserved []string
		var ledger []store.Entry
		for _, req := range group {
			switch r := req.r; {
			case !inserted[r.ID]:
			case short[r.Lines[0].SKU]:
				unserved = append(unserved, r.ID)
			default:
				held[r.ID] = true
				ledger = append(ledger, entries(r.Lines, 0, 1, domain.ReasonReserve, req.actor, r.ID, r.CreatedAt)...)
			}
		}
		if err := tx.DeleteReservations(unserved); err != nil {
			return err
		}
		return tx.Record(ledger)
	})
	return held, err
}
