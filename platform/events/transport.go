package events

import (
	"context"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// Transport carries published events to consumers. The outbox relay and the
// inbox do not depend on which one runs: GoChannel in one process, NATS
// JetStream when modules run in processes of their own.
type Transport interface {
	// Publisher publishes to a topic; Publish returns once the transport
	// holds the message durably (for GoChannel: once every consumer acked).
	Publisher() message.Publisher
	// Subscriber returns the subscriber a named consumer reads with; replicas
	// of one consumer share its messages. Given the event names the consumer
	// handles, a transport may send it only those; it sends all of a topic
	// otherwise.
	Subscriber(consumer string, events ...string) (message.Subscriber, error)
	// Ping reports whether the transport can be used.
	Ping(ctx context.Context) error
	Name() string
	Close() error
}

// GoChannel is the in-process transport.
//
// Publish blocks until every subscriber acked the message. That is what makes
// it safe: the relay marks an outbox row sent only after every consumer in
// this process handled it (or dead-lettered it), so a crash never loses an
// event, and each consumer sees a topic's events in order.
type GoChannel struct {
	pubsub *gochannel.GoChannel
}

// NewGoChannel makes the in-process transport.
func NewGoChannel(log *slog.Logger) *GoChannel {
	return &GoChannel{pubsub: gochannel.NewGoChannel(gochannel.Config{
		OutputChannelBuffer:            256,
		BlockPublishUntilSubscriberAck: true,
	}, watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}))}
}

func (g *GoChannel) Publisher() message.Publisher { return g.pubsub }
func (g *GoChannel) Subscriber(string, ...string) (message.Subscriber, error) {
	return g.pubsub, nil
}
func (g *GoChannel) Ping(context.Context) error { return nil }
func (g *GoChannel) Name() string               { return "gochannel" }
func (g *GoChannel) Close() error               { return g.pubsub.Close() }
