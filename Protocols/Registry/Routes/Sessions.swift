import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension RegistryFrontEnd {
    func mountSessions<Context: RequestContext>(on tenant: RouterGroup<Context>) {
        tenant.post("sessions") { request, context in try await createSession(request, context) }
        tenant.get("sessions") { request, context in try await listSessions(request, context) }
        tenant.get("sessions/:id") { _, context in try await getSession(context) }
        tenant.put("sessions/:id") { request, context in try await updateSession(request, context) }
        tenant.delete("sessions/:id") { _, context in try await deleteSession(context) }
        tenant.post("sessions/:id/heartbeat") { request, context in try await heartbeat(request, context) }
    }

    /// A session as the registry shows it: never its token.
    static func representation(_ session: Session) -> JSONValue {
        [
            "id": .string(session.id), "heartbeat_timeout": .int(Int64(session.heartbeatTimeout)), "metadata": JSONValue(session.metadata),
            "last_seen": milliseconds(session.lastSeen), "expires_at": milliseconds(session.deadline),
        ]
    }

    /// `heartbeat_timeout`: a JSON integer 3..30 (strings, fractions, booleans, null are 400).
    static func heartbeatTimeout(_ members: [String: JSONValue], required: Bool) throws -> Int? {
        guard let value = members["heartbeat_timeout"] else {
            if required { throw RegistryError.badRequest("heartbeat_timeout is required: a whole number of seconds from 3 to 30") }
            return nil
        }
        guard case .int(let seconds) = value, Broker.heartbeatTimeouts.contains(Int(seconds)) else {
            throw RegistryError.badRequest("heartbeat_timeout must be a whole number of seconds from 3 to 30")
        }
        return Int(seconds)
    }

    /// POST …/sessions → 201 + `Location` + `{"id", "token"}`; 400 bad timeout or metadata.
    func createSession(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let members = try await Self.body(request)
        let timeout = try Self.heartbeatTimeout(members, required: true)!
        let metadata = try Self.metadata(members) ?? [:]
        let token = Self.newToken()
        let session = try await call { () async throws(BrokerError) in
            try await broker.createSession(tenant: tenant(context), heartbeatTimeout: timeout, metadata: metadata, tokenHash: Self.hash(token), origin: origin(context))
        }
        return Self.json(
            .created, ["id": .string(session.id), "token": .string(token)],
            headers: [.location: Self.location(request, tenant: tenant(context), "sessions/\(session.id)")])
    }

    /// GET …/sessions → 200 page of sessions.
    func listSessions(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let pagination = try Pagination(request)
        let page = try await call { () async throws(BrokerError) in try await broker.sessions(tenant: tenant(context), page: pagination.page) }
        return Self.json(.ok, pagination.body(page.items.map(Self.representation), nextMarker: page.nextMarker, request: request))
    }

    func liveSession(_ context: some RequestContext) async throws -> Session {
        let id = context.pathParameter("id") ?? ""
        guard let session = try await call({ () async throws(BrokerError) in try await broker.session(id: id, tenant: tenant(context)) }) else {
            throw RegistryError.notFound("Session", id)
        }
        return session
    }

    /// GET …/sessions/:id → 200 session; 404 unknown or expired.
    func getSession(_ context: some RequestContext) async throws -> Response {
        Self.json(.ok, Self.representation(try await liveSession(context)))
    }

    /// PUT …/sessions/:id → 204 + `Location`; 400 bad fields (nothing changes); 404.
    func updateSession(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = context.pathParameter("id") ?? ""
        let members = try await Self.body(request)
        let timeout = try Self.heartbeatTimeout(members, required: false)
        let metadata = try Self.metadata(members)
        _ = try await call { () async throws(BrokerError) in
            try await broker.updateSession(id: id, tenant: tenant(context), heartbeatTimeout: timeout, metadata: metadata)
        }
        return Response(status: .noContent, headers: [.location: Self.location(request, tenant: tenant(context), "sessions/\(id)")])
    }

    /// DELETE …/sessions/:id → 204 (its providers go offline, `session.remove`); 404.
    func deleteSession(_ context: some RequestContext) async throws -> Response {
        let id = context.pathParameter("id") ?? ""
        _ = try await call { () async throws(BrokerError) in
            try await broker.endSession(id: id, tenant: tenant(context), reason: .removed, origin: origin(context))
        }
        return Response(status: .noContent)
    }

    /// POST …/sessions/:id/heartbeat `{"token"}` → 200 `{"token": <next>}`; 400 missing or non-string
    /// token; 404 unknown or expired session, or a token that is not the current one (nothing changes).
    func heartbeat(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let id = context.pathParameter("id") ?? ""
        let members = try await Self.body(request)
        guard let token = members["token"]?.stringValue, !token.isEmpty else {
            throw RegistryError.badRequest("token is required: the token of the last create or heartbeat answer")
        }
        let next = Self.newToken()
        _ = try await call { () async throws(BrokerError) in
            try await broker.heartbeat(session: id, tenant: tenant(context), tokenHash: Self.hash(token), nextTokenHash: Self.hash(next))
        }
        return Self.json(.ok, ["token": .string(next)])
    }
}
