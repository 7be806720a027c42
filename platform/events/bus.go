package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
	"gorm.io/gorm"

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

// initConsumer makes a consumer's series exist, at zero, from the start.
func (m *Metrics) initConsumer(name string) {
	m.handled.WithLabelValues(name)
	m.failed.WithLabelValues(name)
	m.duplicates.WithLabelValues(name)
	m.deadLettered.WithLabelValues(name)
	m.delivery.WithLabelValues(name)
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
	linger    time.Duration

	mu          sync.Mutex
	outboxes    map[string]*Outbox
	relays      map[string]*relay
	consumers   []Consumer
	router      *message.Router
	routerDone  chan struct{}
	relayCtx    context.Context
	stopRelays  context.CancelFunc
	relaysWG    sync.WaitGroup
	started     bool
	lifecycleMu sync.Mutex // serialises Start and Stop

	// aborted is set when a consumer gave a message up because the bus is
	// stopping. An in-process transport then reports the message as sent
	// although it was not handled, so from then on the relays mark nothing
	// as published: what is left is sent again by the next process.
	aborted atomic.Bool
}

// ErrNotStarted is returned by Drain before Start: with no consumer
// subscribed, publishing would only throw the events away.
var ErrNotStarted = errors.New("event bus not started")

// BusOption configures a bus.
type BusOption func(*Bus)

// WithLinger makes each outbox relay, when a commit wakes it, wait d for
// more events before it publishes, so that the events of a few transactions
// in a row travel as one message and each consumer handles them in one
// transaction. Events arrive up to d later; 0 (the default) publishes at
// once. Bus.Drain and Stop do not wait.
func WithLinger(d time.Duration) BusOption { return func(b *Bus) { b.linger = d } }

// NewBus makes a bus over a transport.
func NewBus(t Transport, reg prometheus.Registerer, log *slog.Logger, opts ...BusOption) *Bus {
	b := &Bus{transport: t, log: log, outboxes: map[string]*Outbox{}, relays: map[string]*relay{}}
	for _, o := range opts {
		o(b)
	}
	b.metrics = newMetrics(reg, b)
	return b
}

// Transport is the bus's transport.
func (b *Bus) Transport() Transport { return b.transport }

// Outbox returns the module's outbox, creating it and its relay (which runs
// at once when the bus has already started).
func (b *Bus) Outbox(h *database.Handle) *Outbox {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o, ok := b.outboxes[h.Module]; ok {
		return o
	}
	o := &Outbox{module: h.Module, h: h}
	b.outboxes[h.Module] = o
	r := newRelay(o, b.transport, b.metrics, b.log.With("module", h.Module), b.linger, &b.aborted)
	b.metrics.published.WithLabelValues(h.Module)
	b.relays[h.Module] = r
	if b.started {
		b.runRelay(r)
	}
	return o
}

// runRelay starts r; the caller holds b.mu.
func (b *Bus) runRelay(r *relay) {
	ctx := b.relayCtx
	b.relaysWG.Add(1)
	go func() { defer b.relaysWG.Done(); r.run(ctx) }()
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

// Start subscribes every consumer, then starts the relays. When it fails,
// nothing keeps running, and it may be called again.
func (b *Bus) Start(ctx context.Context) error {
	b.lifecycleMu.Lock()
	defer b.lifecycleMu.Unlock()
	b.mu.Lock()
	started, consumers := b.started, append([]Consumer(nil), b.consumers...)
	b.mu.Unlock()
	if started {
		return nil
	}
	names := map[string]bool{}
	for _, c := range consumers {
		if c.outbox == nil || c.Name == "" {
			return fmt.Errorf("consumer %q was not made with Outbox.Consumer", c.Name)
		}
		if names[c.Name] {
			return fmt.Errorf("two consumers are named %s", c.Name)
		}
		names[c.Name] = true
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second},
		watermill.NewSlogLoggerWithLevelMapping(b.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))
	if err != nil {
		return err
	}
	// Only an in-process transport reports a message delivered that a
	// consumer gave up on; a broker keeps it and delivers it again.
	var aborted *atomic.Bool
	if b.inProcess() {
		aborted = &b.aborted
	}
	for _, c := range consumers {
		sub, err := b.transport.Subscriber(c.Name, c.Events()...)
		if err != nil {
			return fmt.Errorf("subscriber for %s: %w", c.Name, err)
		}
		d := &delivery{c: c, metrics: b.metrics, log: b.log.With("module", c.outbox.module), aborted: aborted}
		b.metrics.initConsumer(c.Name)
		for _, src := range c.sources() {
			router.AddConsumerHandler(c.Name+"@"+src, Topic(src), sub, d.handle)
		}
	}
	// The router lives until Stop closes it, whatever happens to ctx.
	done := make(chan struct{})
	go func() { //nolint:gosec // G118: deliberately detached from ctx, Stop ends the router
		defer close(done)
		if err := router.Run(context.Background()); err != nil {
			b.log.Error("event router stopped", "err", err)
		}
	}()
	select {
	case <-router.Running():
	case <-done:
		return errors.New("event router stopped while starting")
	case <-ctx.Done():
		_ = router.Close()
		<-done
		return ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.router, b.routerDone = router, done
	b.relayCtx, b.stopRelays = context.WithCancel(context.Background())
	b.aborted.Store(false)
	b.started = true
	for _, r := range b.relays {
		b.runRelay(r)
	}
	return nil
}

// inProcess: the transport delivers within this process (GoChannel), so
// Publish returns only once the local consumers handled the message.
func (b *Bus) inProcess() bool {
	_, ok := b.transport.(*GoChannel)
	return ok
}

// Stop stops the relays, publishes what is still in the outboxes (so events
// committed before Stop are handled before it returns), then closes the
// consumers and the transport. ctx bounds the whole; what is left when it
// ends stays in the outboxes for the next start. Over a broker (NATS) the
// consumers stop first, and the events published here are handled by
// other processes or the next start.
func (b *Bus) Stop(ctx context.Context) error {
	b.lifecycleMu.Lock()
	defer b.lifecycleMu.Unlock()
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	if !started {
		return b.transport.Close()
	}
	var errs []error
	if !b.inProcess() {
		// A broker keeps what a consumer has not taken: stop the consumers
		// first (they finish the messages they hold), so that what is
		// published below goes to other processes rather than to a
		// consumer on its way out.
		errs = append(errs, b.router.Close())
		<-b.routerDone
	}
	b.stopRelays()
	relaysDone := make(chan struct{})
	go func() { b.relaysWG.Wait(); close(relaysDone) }()
	select {
	case <-relaysDone:
		// Drain until a pass publishes nothing (in process, the consumers
		// still run, and may publish events of their own while handling).
		for ctx.Err() == nil {
			n, err := b.drainAll(ctx)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if n == 0 {
				break
			}
		}
	case <-ctx.Done():
		// A handler is stuck: give up on it; its message stays unpublished.
		b.aborted.Store(true)
		errs = append(errs, fmt.Errorf("stop event relays: %w", ctx.Err()))
	}
	b.mu.Lock()
	b.started = false
	b.mu.Unlock()
	errs = append(errs, b.router.Close())
	<-relaysDone
	<-b.routerDone
	errs = append(errs, b.transport.Close())
	return errors.Join(errs...)
}

// Drain publishes every pending event of every outbox now. With GoChannel
// it returns once the in-process consumers handled them (tests use it to
// wait for delivery); with NATS, once the stream holds them.
func (b *Bus) Drain(ctx context.Context) error {
	b.mu.Lock()
	started := b.started
	b.mu.Unlock()
	if !started {
		return ErrNotStarted
	}
	_, err := b.drainAll(ctx)
	return err
}

func (b *Bus) drainAll(ctx context.Context) (int, error) {
	b.mu.Lock()
	relays := make([]*relay, 0, len(b.relays))
	for _, r := range b.relays {
		relays = append(relays, r)
	}
	b.mu.Unlock()
	sort.Slice(relays, func(i, j int) bool { return relays[i].ob.module < relays[j].ob.module })
	total := 0
	var errs []error
	for _, r := range relays {
		n, err := r.drain(ctx)
		total += n
		if err != nil {
			errs = append(errs, fmt.Errorf("drain %s outbox: %w", r.ob.module, err))
		}
	}
	return total, errors.Join(errs...)
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

// DeadLetter reads one dead letter of a local module.
func (b *Bus) DeadLetter(ctx context.Context, module string, id int64) (DeadLetter, error) {
	b.mu.Lock()
	o, ok := b.outboxes[module]
	b.mu.Unlock()
	if !ok {
		return DeadLetter{}, ErrNoDeadLetter
	}
	var dl DeadLetter
	err := o.h.Conn(ctx).Table(module+"_dead_letters").Where("id = ?", id).Take(&dl).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return DeadLetter{}, ErrNoDeadLetter
	}
	dl.Module = module
	return dl, err
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
	if err := o.h.Conn(ctx).Table(module+"_dead_letters").Where("id = ? AND replayed_at IS NULL", id).Take(&dl).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNoDeadLetter
	} else if err != nil {
		return fmt.Errorf("read %s dead letter %d: %w", module, id, err)
	}
	var consumer *Consumer
	for _, c := range b.Consumers() {
		if c.Name == dl.Consumer {
			consumer = &c
		}
	}
	if consumer == nil {
		return fmt.Errorf("%w: consumer %s does not run here", ErrReplayFailed, dl.Consumer)
	}
	route, ok := consumer.routes[dl.Event]
	if !ok {
		return fmt.Errorf("%w: consumer %s no longer handles %s", ErrReplayFailed, dl.Consumer, dl.Event)
	}
	d := &delivery{c: *consumer, metrics: b.metrics, log: b.log}
	dup, err := d.attempt(ctx, route, Message{ID: dl.MessageID, Name: dl.Event, Key: dl.Key, Payload: []byte(dl.Payload)})
	if err != nil {
		b.metrics.failed.WithLabelValues(consumer.Name).Inc()
		return fmt.Errorf("%w: %w", ErrReplayFailed, err)
	}
	if !dup {
		b.metrics.handled.WithLabelValues(consumer.Name).Inc()
	}
	return o.h.Conn(ctx).Exec("UPDATE "+module+"_dead_letters SET replayed_at = ? WHERE id = ?", time.Now().UTC(), id).Error
}
