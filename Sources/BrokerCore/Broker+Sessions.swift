import Foundation
import Logging

/// Why a session ended.
public enum SessionEnd: String, Sendable {
    /// No heartbeat before its deadline.
    case expired
    /// Deleted by its owner.
    case removed
}

extension Broker {
    /// The allowed `heartbeat_timeout` range, in seconds (seed 003).
    public static let heartbeatTimeouts = 3...30

    /// Opens a session; its deadline is now + `heartbeatTimeout`. The caller keeps the token and
    /// hands only its hash, so no token is ever stored.
    ///
    /// - registry: `POST /sessions`.
    public func createSession(
        tenant: String, heartbeatTimeout: Int, metadata: [String: String], tokenHash: String, origin: RequestOrigin
    ) async throws(BrokerError) -> Session {
        guard Self.heartbeatTimeouts.contains(heartbeatTimeout) else {
            throw .invalidRequest("heartbeat_timeout must be a whole number of seconds from 3 to 30")
        }
        let now = Self.now()
        let session = Session(
            id: "se" + Self.randomBase62(10), tenant: tenant, heartbeatTimeout: heartbeatTimeout, tokenHash: tokenHash,
            deadline: now.addingTimeInterval(Double(heartbeatTimeout)), metadata: metadata, createdAt: now)
        let event = NewEvent(
            type: EventType.sessionCreate, tenant: tenant, protocolName: origin.protocolName, subject: session.id,
            payload: ["session": Self.summary(session)], timestamp: now)
        try await withLedger {
            try await self.ledger.mutateSession(session.id) { _, _ in (SessionWrite(session: session, events: [event]), ()) }
        }
        return session
    }

    /// A live session of the tenant (nil when unknown, another tenant's, or past its deadline).
    ///
    /// - registry: `GET /sessions/:id`.
    public func session(id: String, tenant: String) async throws(BrokerError) -> Session? {
        guard let session = try await withLedger({ try await self.ledger.session(id: id) }),
            session.tenant == tenant, session.deadline > Self.now()
        else { return nil }
        return session
    }

    /// A page of a tenant's live sessions.
    ///
    /// - registry: `GET /sessions`.
    public func sessions(tenant: String, page: PageRequest) async throws(BrokerError) -> Page<Session> {
        let found = try await withLedger { try await self.ledger.sessions(tenant: tenant, page: page) }
        let now = Self.now()
        return Page(items: found.items.filter { $0.deadline > now }, nextMarker: found.nextMarker)
    }

    /// Accepts a heartbeat with the current token: the deadline moves to now + timeout and the
    /// token is replaced. Any other token, or a heartbeat after the deadline, changes nothing.
    ///
    /// - registry: `POST /sessions/:id/heartbeat`.
    public func heartbeat(
        session id: String, tenant: String, tokenHash: String, nextTokenHash: String
    ) async throws(BrokerError) -> Session {
        do {
            return try await ledger.mutateSession(id) { session, _ in
                let now = Self.now()
                guard var session, session.tenant == tenant, session.deadline > now else {
                    throw BrokerError.sessionNotFound("session '\(id)' does not exist")
                }
                guard session.tokenHash == tokenHash else {
                    throw BrokerError.sessionNotFound("the heartbeat token of session '\(id)' is stale or unknown")
                }
                session.tokenHash = nextTokenHash
                session.lastSeen = now
                session.deadline = now.addingTimeInterval(Double(session.heartbeatTimeout))
                return (SessionWrite(session: session), session)
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    /// Changes a live session's timeout (applied from the next heartbeat) or metadata.
    ///
    /// - registry: `PUT /sessions/:id`.
    public func updateSession(
        id: String, tenant: String, heartbeatTimeout: Int?, metadata: [String: String]?
    ) async throws(BrokerError) -> Session {
        if let heartbeatTimeout, !Self.heartbeatTimeouts.contains(heartbeatTimeout) {
            throw .invalidRequest("heartbeat_timeout must be a whole number of seconds from 3 to 30")
        }
        do {
            return try await ledger.mutateSession(id) { session, _ in
                guard var session, session.tenant == tenant, session.deadline > Self.now() else {
                    throw BrokerError.sessionNotFound("session '\(id)' does not exist")
                }
                if let heartbeatTimeout { session.heartbeatTimeout = heartbeatTimeout }
                if let metadata { session.metadata = metadata }
                return (SessionWrite(session: session), session)
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    /// Ends a session in one transaction: the session goes, each provider attached to it goes
    /// offline, and `session.timeout`/`session.remove` plus one `provider.timeout` each are written.
    ///
    /// - registry: `DELETE /sessions/:id`, and expiry.
    @discardableResult
    public func endSession(
        id: String, tenant: String?, reason: SessionEnd, origin: RequestOrigin
    ) async throws(BrokerError) -> [Provider] {
        do {
            return try await ledger.mutateSession(id) { session, attached in
                let now = Self.now()
                guard let session, tenant == nil || session.tenant == tenant else {
                    throw BrokerError.sessionNotFound("session '\(id)' does not exist")
                }
                if reason == .removed && session.deadline <= now {
                    throw BrokerError.sessionNotFound("session '\(id)' does not exist")
                }
                if reason == .expired && session.deadline > now { return (SessionWrite(), []) }
                var events = [
                    NewEvent(
                        type: reason == .expired ? EventType.sessionTimeout : EventType.sessionRemove, tenant: session.tenant,
                        protocolName: origin.protocolName, subject: id,
                        payload: ["session": Self.summary(session), "providers": .array(attached.map { .string($0.id) })], timestamp: now)
                ]
                let offline = attached.map { provider in
                    var provider = provider
                    provider.status = .offline
                    provider.statusReason = "session \(reason == .expired ? "expired" : "removed")"
                    provider.updatedAt = now
                    return provider
                }
                for provider in offline {
                    events.append(
                        self.providerEvent(
                            EventType.providerTimeout, provider, origin: origin,
                            extra: ["session_id": .string(id), "reason": .string(reason.rawValue)]))
                }
                return (SessionWrite(deleteSession: true, providers: offline, events: events), offline)
            }
        } catch {
            throw brokerError(fromLedger: error)
        }
    }

    /// Expires every session whose deadline has passed; returns how many.
    @discardableResult
    public func expireDueSessions() async throws(BrokerError) -> Int {
        let due = try await withLedger { try await self.ledger.sessionsDue(at: Self.now(), limit: 500) }
        var expired = 0
        for id in due {
            do {
                let offline = try await endSession(id: id, tenant: nil, reason: .expired, origin: .system)
                expired += 1
                for provider in offline { await pool.evict(provider.id) }
            } catch .sessionNotFound {
                continue  // deleted meanwhile
            }
        }
        if expired > 0 { logger.info("broker.sessions.expired", metadata: ["count": "\(expired)"]) }
        return expired
    }

    /// The deadline queue: sleeps until the earliest deadline (at most `tick`, so new sessions
    /// are seen), expires what is due, until cancelled. Idle sessions cost nothing: each round
    /// reads only the head of the deadline index.
    public func runSessionExpiry(tick: Duration = .milliseconds(250)) async {
        while !Task.isCancelled {
            do {
                try await expireDueSessions()
                var wait = tick
                if let next = try await withLedger({ try await self.ledger.earliestSessionDeadline() }) {
                    let until = next.timeIntervalSinceNow
                    wait = min(tick, .milliseconds(max(0, Int(until * 1000) + 1)))
                }
                try await Task.sleep(for: wait)
            } catch is CancellationError {
                return
            } catch {
                logger.warning("broker.sessions.expiry-failed", metadata: ["error-type": "\(type(of: error))"])
                try? await Task.sleep(for: tick)
            }
        }
    }

    /// After a restart, gives each session whose deadline passed while the server was down one
    /// fresh timeout: nobody could heartbeat a stopped server.
    @discardableResult
    public func reviveOverdueSessions() async throws(BrokerError) -> Int {
        try await withLedger { try await self.ledger.reviveOverdueSessions(at: Self.now()) }
    }

    /// A session as events show it: never its token.
    static func summary(_ session: Session) -> JSONValue {
        ["id": .string(session.id), "heartbeat_timeout": .int(Int64(session.heartbeatTimeout)), "metadata": JSONValue(session.metadata)]
    }

    static func randomBase62(_ count: Int) -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
