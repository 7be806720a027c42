package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// NATS JetStream defaults; docs/architecture.md says why.
const (
	DefaultNATSStream        = "MODSHOP_EVENTS"
	DefaultNATSSubjectPrefix = "modshop.events"
	defaultNATSMaxAge        = 7 * 24 * time.Hour // as long as the inbox remembers a message id (keepInbox)
	defaultNATSDuplicates    = 5 * time.Minute    // longer than a relay's lease (relayLease) plus its retries
	defaultNATSAckWait       = 30 * time.Second
	defaultNATSNakDelay      = time.Second
	defaultNATSTimeout       = 5 * time.Second
	maxNATSNakDelay          = 30 * time.Second
	drainTimeout             = 15 * time.Second // as long as the router waits for its handlers
)

// NATSConfig configures the NATS JetStream transport; only URL is required.
type NATSConfig struct {
	URL string // nats://host:port
	// Stream holds every event of the shop (default MODSHOP_EVENTS).
	Stream string
	// SubjectPrefix: an event named m.x.v1 travels on subject
	// "<SubjectPrefix>.m.x.v1", beneath its module's "<SubjectPrefix>.m"
	// (default modshop.events, so the module's subject is its topic); the
	// stream listens on "<SubjectPrefix>.>".
	SubjectPrefix string
	MaxAge        time.Duration // how long the stream keeps an event (default 7 days)
	Duplicates    time.Duration // the stream's Nats-Msg-Id deduplication window (default 5 minutes)
	Replicas      int           // stream replicas in a JetStream cluster (default 1)
	// AckWait: a message a consumer has not acked in this time is delivered
	// again (default 30 s). Handlers must finish well within it.
	AckWait time.Duration
	// NakDelay is the pause before a nacked message comes back; it doubles
	// with each delivery, up to 30 s (default 1 s).
	NakDelay time.Duration
	// Timeout bounds a publish (until JetStream acknowledged it) and each
	// JetStream API request (default 5 s).
	Timeout time.Duration
}

func (c *NATSConfig) setDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultNATSStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultNATSSubjectPrefix
	}
	if c.MaxAge <= 0 {
		c.MaxAge = defaultNATSMaxAge
	}
	if c.Duplicates <= 0 {
		c.Duplicates = min(defaultNATSDuplicates, c.MaxAge)
	}
	if c.Replicas <= 0 {
		c.Replicas = 1
	}
	if c.AckWait <= 0 {
		c.AckWait = defaultNATSAckWait
	}
	if c.NakDelay <= 0 {
		c.NakDelay = defaultNATSNakDelay
	}
	if c.Timeout <= 0 {
		c.Timeout = defaultNATSTimeout
	}
}

func (c NATSConfig) validate() error {
	if c.URL == "" {
		return errors.New("NATS transport: no URL")
	}
	if !validNATSName(c.Stream) {
		return fmt.Errorf("NATS transport: stream name %q: use letters, digits, _ and -", c.Stream)
	}
	for _, tok := range strings.Split(c.SubjectPrefix, ".") {
		if !validNATSName(tok) {
			return fmt.Errorf("NATS transport: subject prefix %q: use tokens of letters, digits, _ and - separated by dots", c.SubjectPrefix)
		}
	}
	if c.Duplicates > c.MaxAge {
		return fmt.Errorf("NATS transport: duplicate window %s is longer than the max age %s", c.Duplicates, c.MaxAge)
	}
	return nil
}

// NATS is the transport when modules run in processes of their own: events
// go through one JetStream stream, stored on disk.
//
//   - Publish returns once JetStream acknowledged the message (it is stored);
//     the message UUID (the event id, or the batch's) is its Nats-Msg-Id, so
//     a relay that publishes rows again after a crash is deduplicated by the
//     stream within its duplicate window.
//   - Each consumer reads each source module through a durable consumer
//     "<module>-<handler>-<source>" with at most one unacknowledged message,
//     so it handles a topic's events one at a time, in order. The durable
//     listens on the subject of the consumer's one event of that module, or
//     on all of the module's when it handles several (see filter). All
//     replicas of a consumer join that durable's queue group and share its
//     messages.
//   - A message is acked after the handler (and its inbox entry) committed,
//     or was dead-lettered, without waiting for JetStream to confirm the ack;
//     a nack brings it back after NakDelay (doubling), and a message not
//     acked within AckWait (or whose ack was lost) comes back too.
//   - Connections reconnect forever; while NATS is away Publish and Ping
//     fail at once, and the relay keeps the events in the outbox.
type NATS struct {
	cfg  NATSConfig
	log  *slog.Logger
	wlog watermill.LoggerAdapter

	nc  *nats.Conn // the publisher's, also used for the stream and its consumers
	js  nats.JetStreamContext
	pub *wmnats.Publisher

	provisionMu sync.Mutex
	provisioned atomic.Bool // the stream exists as configured

	mu     sync.Mutex
	subs   map[string]*natsSubscriber // by consumer name
	closed bool
}

var _ Transport = (*NATS)(nil)

// NewNATS makes the JetStream transport. It does not wait for NATS: the
// connection is retried forever, the stream is created or updated once NATS
// answers (at the first Ping, Publish or subscription).
func NewNATS(cfg NATSConfig, log *slog.Logger) (*NATS, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t := &NATS{
		cfg:  cfg,
		log:  log.With("transport", "nats"),
		wlog: watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		subs: map[string]*natsSubscriber{},
	}
	nc, err := t.connect("modshop publisher")
	if err != nil {
		return nil, err
	}
	js, err := nc.JetStream(nats.MaxWait(cfg.Timeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS JetStream: %w", err)
	}
	pub, err := wmnats.NewPublisherWithNatsConn(nc, wmnats.PublisherPublishConfig{
		Marshaler:         natsMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator, // unused: Publish gets the subject
		JetStream: wmnats.JetStreamConfig{
			ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.Timeout)},
			TrackMsgId:     true, // Nats-Msg-Id = message UUID
		},
	}, t.wlog)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS publisher: %w", err)
	}
	t.nc, t.js, t.pub = nc, js, pub
	return t, nil
}

// connect opens a connection that retries forever, from the start on. A
// publish while it is down fails at once instead of waiting in a buffer.
func (t *NATS) connect(name string) (*nats.Conn, error) {
	nc, err := nats.Connect(t.cfg.URL,
		nats.Name(name),
		nats.DrainTimeout(drainTimeout),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(func(*nats.Conn) { t.log.Info("connected to NATS", "conn", name) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				t.log.Warn("disconnected from NATS; reconnecting", "conn", name, "err", err)
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { t.log.Info("reconnected to NATS", "conn", name) }),
	)
	if err != nil {
		return nil, fmt.Errorf("NATS connect: %w", err)
	}
	return nc, nil
}

func (t *NATS) Name() string { return "nats" }

// Config is the transport's configuration, defaults filled in.
func (t *NATS) Config() NATSConfig { return t.cfg }

// Publisher publishes to a topic made by Topic.
func (t *NATS) Publisher() message.Publisher { return natsPublisher{t} }

// Ping reports whether NATS is connected and the stream answers.
func (t *NATS) Ping(ctx context.Context) error {
	if err := t.connected(); err != nil {
		return err
	}
	if t.provisioned.Load() {
		ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
		defer cancel()
		_, err := t.js.StreamInfo(t.cfg.Stream, nats.Context(ctx))
		if !errors.Is(err, nats.ErrStreamNotFound) {
			if err != nil {
				return fmt.Errorf("NATS stream %s: %w", t.cfg.Stream, err)
			}
			return nil
		}
		t.provisioned.Store(false) // deleted behind our back: make it again
	}
	return t.provision(ctx)
}

// connected fails when the connection is not up (naming why, without the
// URL, which may hold credentials).
func (t *NATS) connected() error {
	if t.nc.IsConnected() {
		return nil
	}
	if err := t.nc.LastError(); err != nil {
		return fmt.Errorf("NATS is not connected (%s): %w", t.nc.Status(), err)
	}
	return fmt.Errorf("NATS is not connected (%s)", t.nc.Status())
}

// provision creates the stream, or updates it to the configuration, unless
// that was done already.
func (t *NATS) provision(ctx context.Context) error {
	if t.provisioned.Load() {
		return nil
	}
	t.provisionMu.Lock()
	defer t.provisionMu.Unlock()
	if t.provisioned.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	want := t.streamConfig()
	info, err := t.js.StreamInfo(want.Name, nats.Context(ctx))
	switch {
	case errors.Is(err, nats.ErrStreamNotFound):
		_, err = t.js.AddStream(want, nats.Context(ctx))
		if errors.Is(err, nats.ErrStreamNameAlreadyInUse) { // another process was quicker
			err = nil
		}
		if err == nil {
			t.log.Info("NATS stream created", "stream", want.Name, "subjects", want.Subjects)
		}
	case err != nil:
	case !sameStream(info.Config, *want):
		_, err = t.js.UpdateStream(want, nats.Context(ctx))
		if err == nil {
			t.log.Info("NATS stream updated", "stream", want.Name, "subjects", want.Subjects)
		}
	}
	if err != nil {
		return fmt.Errorf("NATS stream %s: %w", want.Name, err)
	}
	t.provisioned.Store(true)
	return nil
}

func (t *NATS) streamConfig() *nats.StreamConfig {
	return &nats.StreamConfig{
		Name:              t.cfg.Stream,
		Description:       "modshop integration events",
		Subjects:          []string{t.cfg.SubjectPrefix + ".>"},
		Retention:         nats.LimitsPolicy,
		MaxConsumers:      -1,
		MaxMsgs:           -1,
		MaxBytes:          -1,
		MaxMsgsPerSubject: -1,
		Discard:           nats.DiscardOld,
		MaxAge:            t.cfg.MaxAge,
		Storage:           nats.FileStorage,
		Replicas:          t.cfg.Replicas,
		Duplicates:        t.cfg.Duplicates,
	}
}

// sameStream compares what streamConfig sets.
func sameStream(have, want nats.StreamConfig) bool {
	return have.Description == want.Description && strings.Join(have.Subjects, " ") == strings.Join(want.Subjects, " ") &&
		have.Retention == want.Retention && have.MaxMsgs == want.MaxMsgs && have.MaxBytes == want.MaxBytes &&
		have.MaxMsgsPerSubject == want.MaxMsgsPerSubject && have.Discard == want.Discard && have.MaxAge == want.MaxAge &&
		have.Storage == want.Storage && have.Replicas == want.Replicas && have.Duplicates == want.Duplicates
}

// source is the module of a topic made by Topic.
func source(topic string) (string, error) {
	source, ok := strings.CutPrefix(topic, topicPrefix)
	if !ok || !validToken(source) {
		return "", fmt.Errorf("NATS transport: topic %q is not %s<module>", topic, topicPrefix)
	}
	return source, nil
}

// subject is where a message of a topic travels: the subject of its event,
// "<prefix>.<event name>" ("modshop.events.inventory.stock_changed.v1"),
// beneath its module's "<prefix>.<module>". The event must be the topic
// module's.
func (t *NATS) subject(topic string, msg *message.Message) (string, error) {
	src, err := source(topic)
	if err != nil {
		return "", err
	}
	return t.eventSubject(src, msg.Metadata.Get(nameMetadata))
}

func (t *NATS) eventSubject(source, event string) (string, error) {
	tokens := strings.Split(event, ".")
	if len(tokens) < 2 || tokens[0] != source || slices.ContainsFunc(tokens, func(s string) bool { return !validToken(s) }) {
		return "", fmt.Errorf("NATS transport: event %q is not one of module %s (<module>.<name>.v<n>)", event, source)
	}
	return t.cfg.SubjectPrefix + "." + event, nil
}

// filter is the subject a consumer's durable for a topic listens on: that
// of its one event when it handles one event of the topic's module (most
// consumers), so that NATS sends it nothing else; the module's whole
// subject otherwise, or when the events are not given.
func (t *NATS) filter(topic string, events []string) (string, error) {
	src, err := source(topic)
	if err != nil {
		return "", err
	}
	var mine []string
	for _, e := range events {
		if Source(e) == src && !slices.Contains(mine, e) {
			mine = append(mine, e)
		}
	}
	if len(mine) == 1 {
		return t.eventSubject(src, mine[0])
	}
	return t.cfg.SubjectPrefix + "." + src + ".>", nil
}

// durable names a consumer's durable for a source module, from a subject
// of that module. NATS names may not hold dots: "search.read_model" reading
// catalog's events is "search-read_model-catalog" (names are checked to
// hold no '-' otherwise).
func (t *NATS) durable(base, subject string) string {
	src, _, _ := strings.Cut(strings.TrimPrefix(subject, t.cfg.SubjectPrefix+"."), ".")
	return base + "-" + src
}

// deliverSubject is where JetStream pushes a durable's messages.
func (t *NATS) deliverSubject(durable string) string {
	return "_modshop.deliver." + t.cfg.Stream + "." + durable
}

// durableBase checks a consumer name ("<module>.<handler>", letters, digits
// and _) and makes it a NATS name.
func durableBase(consumer string) (string, error) {
	module, handler, ok := strings.Cut(consumer, ".")
	if !ok || !validToken(module) || !validToken(handler) {
		return "", fmt.Errorf("NATS transport: consumer name %q is not <module>.<handler> of letters, digits and _", consumer)
	}
	return module + "-" + handler, nil
}

// ensureConsumer creates the durable consumer, or updates it to the
// configuration. Made here rather than by the subscription: nats.go deletes
// a durable it created itself when that subscription ends, which would
// lose its position (and take it from under the other replicas).
func (t *NATS) ensureConsumer(ctx context.Context, durable, subject string) error {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	cfg := &nats.ConsumerConfig{
		Durable:        durable,
		Description:    "modshop consumer of " + subject,
		DeliverSubject: t.deliverSubject(durable),
		DeliverGroup:   durable,
		DeliverPolicy:  nats.DeliverAllPolicy, // a new consumer reads what the stream holds
		AckPolicy:      nats.AckExplicitPolicy,
		AckWait:        t.cfg.AckWait,
		MaxDeliver:     -1, // the bus dead-letters; the transport never gives up
		MaxAckPending:  1,  // one message at a time: a topic's order holds across redeliveries
		FilterSubject:  subject,
		ReplayPolicy:   nats.ReplayInstantPolicy,
	}
	_, err := t.js.AddConsumer(t.cfg.Stream, cfg, nats.Context(ctx))
	if errors.Is(err, nats.ErrConsumerNameAlreadyInUse) { // there, configured otherwise
		_, err = t.js.UpdateConsumer(t.cfg.Stream, cfg, nats.Context(ctx))
	}
	if err != nil {
		return fmt.Errorf("NATS consumer %s: %w", durable, err)
	}
	return nil
}

// Subscriber returns the consumer's subscriber, on a connection of its own.
// Its durable for a module that it takes one event of listens on that
// event's subject only.
func (t *NATS) Subscriber(consumer string, events ...string) (message.Subscriber, error) {
	base, err := durableBase(consumer)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("NATS transport closed")
	}
	// A bus that failed to start asks again: reuse what it left.
	if s := t.subs[consumer]; s != nil && !s.isDone() {
		return s, nil
	}
	nc, err := t.connect("modshop " + consumer)
	if err != nil {
		return nil, err
	}
	s := newNATSSubscriber(t, base, slices.Clone(events), nc)
	sub, err := wmnats.NewSubscriberWithNatsConn(nc, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:      natsMarshaler{},
		SubscribersCount: 1,
		AckWaitTimeout:   t.cfg.AckWait,
		CloseTimeout:     drainTimeout,
		QueueGroupPrefix: base,
		SubjectCalculator: func(base, subject string) *wmnats.SubjectDetail {
			return &wmnats.SubjectDetail{Primary: subject, QueueGroup: t.durable(base, subject)}
		},
		NakDelay: nakBackoff{first: t.cfg.NakDelay},
		JetStream: wmnats.JetStreamConfig{
			ConnectOptions: []nats.JSOpt{nats.MaxWait(t.cfg.Timeout)},
			// Bind to the durable made by ensureConsumer; ack by hand (only
			// after the handler). The ack does not wait for JetStream's
			// confirmation: a lost ack brings the message back, which the
			// inbox makes harmless, and waiting cost a round trip per event
			// (measured: 0.2 ms less CPU in NATS, 0.4 ms in all per purchase
			// in the split).
			SubscribeOptions:  []nats.SubOpt{nats.BindStream(t.cfg.Stream), nats.ManualAck()},
			AckAsync:          true,
			DurablePrefix:     base,
			DurableCalculator: t.durable,
		},
	}, quietLogger{t.wlog})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("NATS subscriber for %s: %w", consumer, err)
	}
	s.sub = sub
	t.subs[consumer] = s
	return s, nil
}

// Close closes the subscribers and the publisher's connection.
func (t *NATS) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	subs := make([]*natsSubscriber, 0, len(t.subs))
	for _, s := range t.subs {
		subs = append(subs, s)
	}
	t.mu.Unlock()
	var errs []error
	for _, s := range subs {
		errs = append(errs, s.Close())
	}
	errs = append(errs, t.pub.Close())
	return errors.Join(errs...)
}

// natsPublisher maps topics to subjects and fails at once while NATS is away.
type natsPublisher struct{ t *NATS }

// Publish sends the messages in order, each on its event's subject, and
// returns at the first that JetStream did not store.
func (p natsPublisher) Publish(topic string, msgs ...*message.Message) error {
	subjects := make([]string, len(msgs))
	for i, msg := range msgs {
		var err error
		if subjects[i], err = p.t.subject(topic, msg); err != nil {
			return err
		}
	}
	if err := p.t.connected(); err != nil {
		return err
	}
	if err := p.t.provision(context.Background()); err != nil {
		return err
	}
	for i, msg := range msgs {
		err := p.t.pub.Publish(subjects[i], msg)
		if errors.Is(err, nats.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
			p.t.provisioned.Store(false) // no stream listens: check it at the next publish
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Close does nothing: the transport owns the connection.
func (natsPublisher) Close() error { return nil }

// natsSubscriber is a consumer's subscriber, on a connection of its own.
// It makes a topic's durable before it subscribes to it, and it stops
// gracefully, leaving no message unacknowledged (which would hold the
// consumer for AckWait): when the router stops (its context ends) or the
// subscriber closes, it drains the connection at once, so the server sends
// nothing more (the next message goes to another replica, or waits for the
// next process); the handlers finish the messages they hold, acked or nacked
// as usual, and a message that was on its way is nacked. (One the server
// routes at the very moment the subscription goes still counts as
// delivered and comes back after AckWait, as after a crash.)
type natsSubscriber struct {
	t       *NATS
	base    string
	events  []string // that the consumer handles
	nc      *nats.Conn
	sub     *wmnats.Subscriber
	closing chan struct{} // closed by stop
	drained chan struct{} // the connection is drained and closed

	mu       sync.Mutex
	cancels  []context.CancelFunc // of the watermill subscriptions
	broken   bool                 // a watermill Subscribe failed
	stopOnce sync.Once
}

func newNATSSubscriber(t *NATS, base string, events []string, nc *nats.Conn) *natsSubscriber {
	return &natsSubscriber{t: t, base: base, events: events, nc: nc, closing: make(chan struct{}), drained: make(chan struct{})}
}

func (s *natsSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	subject, err := s.t.filter(topic, s.events)
	if err != nil {
		return nil, err
	}
	if err := s.t.connected(); err != nil {
		return nil, err
	}
	if !s.nc.IsConnected() { // its own connection too
		return nil, fmt.Errorf("NATS is not connected (%s) for %s", s.nc.Status(), s.base)
	}
	if err := s.t.provision(ctx); err != nil {
		return nil, err
	}
	if err := s.t.ensureConsumer(ctx, s.t.durable(s.base, subject), subject); err != nil {
		return nil, err
	}
	// The watermill subscription ends with the drain, not with ctx: a
	// message being handled when ctx ends is still acked.
	subCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.mu.Lock()
	if s.isDone() {
		s.mu.Unlock()
		cancel()
		return nil, errors.New("NATS subscriber stopped")
	}
	s.cancels = append(s.cancels, cancel)
	s.mu.Unlock()
	in, err := s.sub.Subscribe(subCtx, subject)
	if err != nil {
		// watermill-nats leaves a subscriber whose Subscribe failed unable
		// to close (it waits CloseTimeout): drop this one, the bus's next
		// start gets a new one.
		s.mu.Lock()
		s.broken = true
		s.mu.Unlock()
		s.stop()
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			s.stop()
		case <-s.closing:
		}
	}()
	out := make(chan *message.Message)
	go func() {
		s.handOver(subCtx, in, out)
		close(out)
		for m := range in { // on its way when the drain began
			m.Nack()
		}
	}()
	return out, nil
}

// handOver hands messages over one at a time until the subscriber stops,
// and waits for the handler's ack or nack of each.
func (s *natsSubscriber) handOver(subCtx context.Context, in <-chan *message.Message, out chan<- *message.Message) {
	for {
		var msg *message.Message
		select {
		case <-s.closing:
			return
		case m, ok := <-in:
			if !ok {
				return
			}
			msg = m
		}
		select {
		case <-s.closing: // a select picks at random among ready cases: stopping wins
			msg.Nack()
			return
		default:
		}
		select {
		case out <- msg:
		case <-s.closing:
			msg.Nack()
			return
		}
		select {
		case <-msg.Acked():
		case <-msg.Nacked():
		case <-subCtx.Done():
			return
		}
	}
}

// stop drains the connection (once): the server sends nothing more; the
// handlers finish (up to drainTimeout); what was on its way is nacked. Then
// it ends the watermill subscriptions.
func (s *natsSubscriber) stop() {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		close(s.closing)
		s.mu.Unlock()
		go func() {
			defer close(s.drained)
			if err := s.nc.Drain(); err == nil {
				deadline := time.Now().Add(drainTimeout + 5*time.Second) // nats.go gives up after drainTimeout
				for !s.nc.IsClosed() && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
			}
			s.nc.Close()
			s.mu.Lock()
			cancels, broken := s.cancels, s.broken
			s.mu.Unlock()
			for _, cancel := range cancels {
				cancel()
			}
			if broken {
				return
			}
			if err := s.sub.Close(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
				s.t.log.Warn("close NATS subscriber", "consumer", s.base, "err", err)
			}
		}()
	})
}

// isDone: stopping or stopped, it takes no more subscriptions.
func (s *natsSubscriber) isDone() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Close stops the subscriber and waits until the handlers finished their
// messages and the connection is drained.
func (s *natsSubscriber) Close() error {
	s.stop()
	<-s.drained
	return nil
}

// quietLogger: watermill unsubscribes a subscription the drain already
// ended; that is not an error.
type quietLogger struct{ watermill.LoggerAdapter }

func (l quietLogger) Error(msg string, err error, fields watermill.LogFields) {
	if msg == "Cannot unsubscribe" {
		l.Debug(msg+": "+err.Error(), fields)
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l quietLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return quietLogger{l.LoggerAdapter.With(fields)}
}

// natsMarshaler carries the message UUID and metadata in NATS headers and
// the payload as it is (watermill's NATSMarshaler), and reads any message:
// one it cannot read would never be acked and would stop its consumer.
type natsMarshaler struct{}

func (natsMarshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	return (&wmnats.NATSMarshaler{}).Marshal(topic, msg)
}

func (natsMarshaler) Unmarshal(m *nats.Msg) (*message.Message, error) {
	id := m.Header.Get(wmnats.WatermillUUIDHdr)
	if id == "" {
		id = m.Header.Get(nats.MsgIdHdr)
	}
	if id == "" { // not sent by modshop: name it by its place in the stream
		if md, err := m.Metadata(); err == nil {
			id = md.Stream + ":" + strconv.FormatUint(md.Sequence.Stream, 10)
		}
	}
	msg := message.NewMessage(id, m.Data)
	for k := range m.Header {
		switch k {
		case wmnats.WatermillUUIDHdr, nats.MsgIdHdr, nats.ExpectedLastMsgIdHdr, nats.ExpectedStreamHdr, nats.ExpectedLastSubjSeqHdr, nats.ExpectedLastSeqHdr:
		default:
			msg.Metadata.Set(k, m.Header.Get(k))
		}
	}
	return msg, nil
}

// nakBackoff: a nacked message comes back after the first delay, doubling
// with each delivery up to maxNATSNakDelay.
type nakBackoff struct{ first time.Duration }

func (b nakBackoff) WaitTime(delivered uint64) time.Duration {
	d := b.first
	for i := uint64(1); i < delivered && d < maxNATSNakDelay; i++ {
		d *= 2
	}
	return min(d, maxNATSNakDelay)
}

// validToken: letters, digits and _ (a module or handler name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// validNATSName: letters, digits, _ and - (a stream name or subject token).
func validNATSName(s string) bool {
	return s != "" && validToken(strings.ReplaceAll(s, "-", "_"))
}
