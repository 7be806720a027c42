package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/modshop/modshop/platform/database"
)

// Metrics are the bus's Prometheus series.
type Metrics struct {
	published    *prometheus.CounterVec
	handled      *prometheus.CounterVec
	failed       *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	delivery     *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, b *Bus) *Metrics {
	m := &Metrics{
		published:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_events_published_total", Help: "Events relayed from a module's outbox."}, []string{"module"}),
		handled:      prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_events_handled_total", Help: "Events a consumer handled."}, []string{"consumer"}),
		failed:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_events_failed_total", Help: "Failed handler attempts of a consumer."}, []string{"consumer"}),
		duplicates:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_events_duplicates_total", Help: "Redelivered events a consumer's inbox ignored."}, []string{"consumer"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "modshop_events_dead_lettered_total", Help: "Events a consumer gave up on."}, []string{"consumer"}),
		delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "modshop_event_delivery_seconds", Help: "From outbox write to handled.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"consumer"}),
	}
	if reg != nil {
		reg.MustRegister(m.published, m.handled, m.failed, m.duplicates, m.deadLettered, m.delivery, outboxCollector{b})
	}
	return m
}

var (
	depthDesc = prometheus.NewDesc("modshop_outbox_depth", "Events waiting in a module's outbox.", []string{"module"}, nil)
	lagDesc   = prometheus.NewDesc("modshop_outbox_lag_seconds", "Age of the oldest event waiting in a module's outbox.", []string{"module"}, nil)
)

// outboxCollector reads depth and lag at scrape time.
type outboxCollector struct{ b *Bus }

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- depthDesc; ch <- lagDesc }
func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range c.b.OutboxStats(ctx) {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(s.Depth), s.Module)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, s.Lag.Seconds(), s.Module)
	}
}

// Bus owns the outboxes, relays and consumers of one process.
type Bus struct {
	transport Transport
	metrics   *Metrics
	log       *slog.Logger

	mu        sync.Mutex
	outboxes  map[string]*Outbox
	relays    map[string]*relay
	consumers []Consumer
	router    *message.Router
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	started   bool
}

// NewBus makes a bus over a transport.
func NewBus(t Transport, reg prometheus.Registerer, log *slog.Logger) *Bus {
	b := &Bus{transport: t, log: log, outboxes: map[string]*Outbox{}, relays: map[string]*relay{}}
	b.metrics = newMetrics(reg, b)
	return b
}

// Transport is the bus's transport.
func (b *Bus) Transport() Transport { return b.transport }

// Outbox returns the module's outbox, creating it and its relay.
func (b *Bus) Outbox(h *database.Handle) *Outbox {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o, ok := b.outboxes[h.Module]; ok {
		return o
	}
	o := &Outbox{module: h.Module, h: h}
	b.outboxes[h.Module] = o
	b.relays[h.Module] = newRelay(o, b.transport, b.metrics, b.log.With("module", h.Module))
	return o
}

// Subscribe registers consumers; they start with the bus.
func (b *Bus) Subscribe(cs ...Consumer) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.consumers = append(b.consumers, cs...)
}

// Consumers lists registered consumers.
func (b *Bus) Consumers() []Consumer {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Consumer(nil), b.consumers...)
}

// Start subscribes every consumer, then starts the relays.
func (b *Bus) Start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return nil
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second},
		watermill.NewSlogLoggerWithLevelMapping(b.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return err
	}
	for _, c := range b.consumers {
		sub, err := b.transport.Subscriber(c.Name)
		if err != nil {
			return fmt.Errorf("subscriber for %s: %w", c.Name, err)
		}
		d := &delivery{c: c, metrics: b.metrics, log: b.log.With("module", c.outbox.module)}
		for _, src := range c.sources() {
			router.AddConsumerHandler(c.Name+"@"+src, Topic(src), sub, d.handle)
		}
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.router = router
	go func() {
		if err := router.Run(runCtx); err != nil {
			b.log.Error("event router stopped", "err", err)
		}
	}()
	select {
	case <-router.Running():
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, r := range b.relays {
		b.wg.Add(1)
		go func() { defer b.wg.Done(); r.run(runCtx) }()
	}
	b.started = true
	return nil
}

// Stop stops the relays after one last drain of every outbox, then waits for
// the consumers to finish what they hold.
func (b *Bus) Stop(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		return b.transport.Close()
	}
	b.cancel()
	b.wg.Wait()
	var errs []error
	for m, r := range b.relays {
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if _, err := r.drain(dctx); err != nil {
			errs = append(errs, fmt.Errorf("drain %s outbox: %w", m, err))
		}
		cancel()
	}
	errs = append(errs, b.router.Close(), b.transport.Close())
	b.started = false
	return errors.Join(errs...)
}

// Drain publishes every pending event of every outbox now; tests and the
// seed command use it to wait for delivery.
func (b *Bus) Drain(ctx context.Context) error {
	b.mu.Lock()
	relays := make([]*relay, 0, len(b.relays))
	for _, r := range b.relays {
		relays = append(relays, r)
	}
	b.mu.Unlock()
	for _, r := range relays {
		if _, err := r.drain(ctx); err != nil {
			return err
		}
	}
	return nil
}

// OutboxStat is the state of one outbox.
type OutboxStat struct {
	Module string
	Depth  int64
	Lag    time.Duration
}

// OutboxStats reads the depth and lag of every outbox.
func (b *Bus) OutboxStats(ctx context.Context) []OutboxStat {
	b.mu.Lock()
	obs := make([]*Outbox, 0, len(b.outboxes))
	for _, o := range b.outboxes {
		obs = append(obs, o)
	}
	b.mu.Unlock()
	sort.Slice(obs, func(i, j int) bool { return obs[i].module < obs[j].module })
	var out []OutboxStat
	for _, o := range obs {
		var row struct {
			N      int64
			Oldest *time.Time
		}
		err := o.h.Conn(ctx).Raw("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM " + o.module + "_outbox WHERE published_at IS NULL").Scan(&row).Error
		if err != nil {
			continue
		}
		s := OutboxStat{Module: o.module, Depth: row.N}
		if row.Oldest != nil {
			s.Lag = time.Since(*row.Oldest)
		}
		out = append(out, s)
	}
	return out
}

// DeadLetters lists the dead letters of every local module, newest first.
func (b *Bus) DeadLetters(ctx context.Context, includeReplayed bool) ([]DeadLetter, error) {
	b.mu.Lock()
	obs := make([]*Outbox, 0, len(b.outboxes))
	for _, o := range b.outboxes {
		obs = append(obs, o)
	}
	b.mu.Unlock()
	var out []DeadLetter
	for _, o := range obs {
		var rows []DeadLetter
		q := o.h.Conn(ctx).Table(o.module + "_dead_letters").Order("id DESC").Limit(500)
		if !includeReplayed {
			q = q.Where("replayed_at IS NULL")
		}
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("%s dead letters: %w", o.module, err)
		}
		for i := range rows {
			rows[i].Module = o.module
		}
		out = append(out, rows...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FailedAt.After(out[j].FailedAt) })
	return out, nil
}

// Replay hands a dead letter to its consumer again, once; on success it is
// marked replayed, on failure it stays where it is and the error is returned.
func (b *Bus) Replay(ctx context.Context, module string, id int64) error {
	b.mu.Lock()
	o, ok := b.outboxes[module]
	b.mu.Unlock()
	if !ok {
		return ErrNoDeadLetter
	}
	var dl DeadLetter
	if err := o.h.Conn(ctx).Table(module+"_dead_letters").Where("id = ? AND replayed_at IS NULL", id).Take(&dl).Error; err != nil {
		return ErrNoDeadLetter
	}
	var consumer *Consumer
	for _, c := range b.Consumers() {
		if c.Name == dl.Consumer {
			consumer = &c
		}
	}
	if consumer == nil {
		return fmt.Errorf("consumer %s does not run here", dl.Consumer)
	}
	route, ok := consumer.routes[dl.Event]
	if !ok {
		return fmt.Errorf("consumer %s no longer handles %s", dl.Consumer, dl.Event)
	}
	d := &delivery{c: *consumer, metrics: b.metrics, log: b.log}
	if _, err := d.attempt(ctx, route, Message{ID: dl.MessageID, Name: dl.Event, Key: dl.Key, Payload: []byte(dl.Payload)}); err != nil {
		return err
	}
	return o.h.Conn(ctx).Exec("UPDATE "+module+"_dead_letters SET replayed_at = ? WHERE id = ?", time.Now().UTC(), id).Error
}
