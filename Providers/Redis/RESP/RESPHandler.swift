import NIOCore

/// Commands written in one go; the promise gets their replies, in order.
struct RESPRequest: Sendable {
    var commands: [RESPCommand]
    var promise: EventLoopPromise<[RESPValue]>
}

/// Matches replies to requests in order, so any number of commands can be in flight
/// (pipelining). Push messages are dropped. When no reply arrives within the timeout, or the
/// stream breaks, every waiting request fails and the channel closes.
final class RESPHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RESPRequest
    typealias OutboundOut = ByteBuffer

    private struct Waiting {
        var expected: Int
        var replies: [RESPValue]
        var promise: EventLoopPromise<[RESPValue]>
    }

    private let replyTimeout: TimeAmount
    private var waiting = CircularBuffer<Waiting>()
    private var timer: Scheduled<Void>?
    /// Set once the connection is unusable; later requests fail with it.
    private var failure: (any Error)?

    init(replyTimeout: TimeAmount) {
        self.replyTimeout = replyTimeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed(())
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { command.encode(into: &buffer) }
        waiting.append(Waiting(expected: request.commands.count, replies: [], promise: request.promise))
        startTimer(context: context)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if case .push = value { return }
        guard !waiting.isEmpty else {
            fail(context: context, RESPProtocolError(reason: "a reply to no command"))
            return
        }
        waiting[waiting.startIndex].replies.append(value)
        if let first = waiting.first, first.replies.count == first.expected {
            waiting.removeFirst()
            first.promise.succeed(first.replies)
        }
        timer?.cancel()
        timer = nil
        if !waiting.isEmpty { startTimer(context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisConnectionError.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The server closed in the middle of a reply.
        if let error = error as? ByteToMessageDecoderError, case .leftoverDataWhenDone = error {
            fail(context: context, RedisConnectionError.closed)
            return
        }
        fail(context: context, error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failAll(RedisConnectionError.closed)
    }

    private func startTimer(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: replyTimeout) {
            self.timer = nil
            self.fail(context: context, RedisConnectionError.timedOut)
        }
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let failure = self.failure ?? error
        self.failure = failure
        timer?.cancel()
        timer = nil
        while let entry = waiting.popFirst() { entry.promise.fail(failure) }
    }
}
