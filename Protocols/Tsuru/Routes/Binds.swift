import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension TsuruFrontEnd {
    func mountBinds<Context: RequestContext>(on service: RouterGroup<Context>) {
        service.post("resources/:name/bind-app") { request, context in try await bind(request, context, unitCall: false) }
        service.delete("resources/:name/bind-app") { request, context in try await unbindApp(request, context) }
        service.post("resources/:name/bind") { request, context in try await bind(request, context, unitCall: true) }
        service.delete("resources/:name/bind") { request, context in try await unbindUnit(request, context) }
    }

    /// The app a request names: `app-name`, or `app-host` (first of `app-hosts`) from tsuru before 2017-12.
    func appKey(_ fields: TsuruFields) throws -> String? {
        if let name = try fields.string("app-name", json: "appName") { return name }
        if let host = try fields.string("app-host", json: "appHost") { return host }
        return try fields.strings("app-hosts", json: "appHosts").first
    }

    /// POST /tsuru/:offering/resources/:name/bind-app → 201 `{VARIABLE: "value"}` (`application/json`),
    /// 200 with the same object when the app is bound already; 400 neither app name nor host;
    /// 404 unknown instance; 409 failed instance; 412 provisioning or updating.
    ///
    /// POST /tsuru/:offering/resources/:name/bind (unit bind, and tsuru's fallback for bind-app) →
    /// the same, always 201, recording `unit-host` when present.
    func bind(_ request: Request, _ context: some RequestContext, unitCall: Bool) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        guard var app = try appKey(fields) else { throw TsuruError(.badRequest, "app-name or app-host is required") }
        let operation: TsuruOperation = unitCall ? .bindUnit : .bindApp
        let instance = try await instance(context, of: offering, during: operation)
        let hostGiven = try fields.string("app-host", json: "appHost")
        if try fields.string("app-name", json: "appName") == nil, let host = hostGiven {
            // Older tsuru names the app by its host only: find the binding that host belongs to.
            let aggregate = try await call(operation) { () async throws(BrokerError) in try await broker.instance(.id(instance.id)) }
            if let owner = aggregate?.bindings.first(where: { $0.appKey == host || ($0.context["app-hosts"]?.arrayValue ?? []).contains(.string(host)) }) {
                app = owner.appKey ?? host
            }
        }
        let plan = offering.plans.first { $0.id == instance.planID }
        var parameters = try fields.parameters()
        if !fields.isJSON { parameters = SchemaCoercion.coerce(parameters, to: plan?.schemas.bindingCreate) }
        var recorded: [String: JSONValue] = ["app": .string(app)]
        let hosts = try fields.strings("app-hosts", json: "appHosts")
        if !hosts.isEmpty { recorded["app-hosts"] = .array(hosts.map(JSONValue.string)) }
        let internalHosts = try fields.strings("app-internal-hosts", json: "appInternalHosts")
        if !internalHosts.isEmpty { recorded["app-internal-hosts"] = .array(internalHosts.map(JSONValue.string)) }
        for (key, value) in fields.prefixed("app-pool-").merging(fields.prefixed("app-cluster-"), uniquingKeysWith: { a, _ in a }) {
            recorded[key] = value
        }
        for (key, value) in fields.prefixed("appPool").merging(fields.prefixed("appCluster"), uniquingKeysWith: { a, _ in a }) {
            recorded[key] = value
        }
        let unit = try fields.string("unit-host", json: "unitHost")
        let command = BindCommand(
            instance: .id(instance.id), appKey: app, parameters: parameters, context: .object(recorded),
            units: unit.map { [$0] } ?? [], acceptsIncomplete: true, origin: origin(request, context, fields))
        let binding = try await bound(command, operation: operation, retryFailed: true)
        if let unit, let app = command.appKey {
            _ = try await call(operation) { () async throws(BrokerError) in
                try await broker.recordUnit(unit, adding: true, instance: .id(instance.id)) { $0.appKey == app }
            }
        }
        let variables = Self.environment(binding.binding.credentials, offering: offering)
        return JSONResponse.make(binding.isNew || unitCall ? .created : .ok, variables)
    }

    /// Binds (or finds the app's binding) and waits until its credentials exist.
    func bound(_ command: BindCommand, operation: TsuruOperation, retryFailed: Bool) async throws -> (binding: Binding, isNew: Bool) {
        let outcome = try await call(operation) { () async throws(BrokerError) in try await broker.bind(command) }
        switch outcome {
        case .created(let binding):
            return (binding, true)
        case .accepted(let binding, let running), .alreadyExists(let binding, .some(let running)):
            let finished = try await call(operation) { () async throws(BrokerError) in
                try await broker.awaitOperation(running.id, timeout: configuration.bindTimeout)
            }
            guard let finished, finished.state != .inProgress else {
                throw TsuruError(.serviceUnavailable, "the binding of app '\(command.appKey ?? "")' is still being created; try again")
            }
            guard finished.state == .succeeded, let done = try await call(operation, { () async throws(BrokerError) in try await broker.binding(id: binding.id) }),
                done.state == .bound
            else {
                throw TsuruError(.internalServerError, finished.description ?? "binding failed")
            }
            if case .accepted = outcome { return (done, true) }
            return (done, false)
        case .alreadyExists(let binding, nil):
            switch binding.state {
            case .bound:
                return (binding, false)
            case .failed where retryFailed:
                // A bind that failed before: revoke what may be left and try once more.
                _ = try await call(operation) { () async throws(BrokerError) in
                    try await broker.unbind(UnbindCommand(binding: .id(binding.id), acceptsIncomplete: false, origin: command.origin))
                }
                return try await bound(command, operation: operation, retryFailed: false)
            default:
                throw TsuruError(.preconditionFailed, "the binding of app '\(command.appKey ?? "")' is being \(binding.state == .unbinding ? "removed" : "changed"); try again")
            }
        }
    }

    /// DELETE /tsuru/:offering/resources/:name/bind-app → 200, also when the app is not bound;
    /// 400 neither app name nor host; 404 unknown instance.
    func unbindApp(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        guard let app = try appKey(fields) else { throw TsuruError(.badRequest, "app-name or app-host is required") }
        let instance = try await instance(context, of: offering, during: .unbindApp)
        let command = UnbindCommand(
            binding: .app(instance: .id(instance.id), appKey: app), acceptsIncomplete: true, origin: origin(request, context, fields))
        let outcome: UnbindOutcome
        do {
            outcome = try await broker.unbind(command)
        } catch .bindingNotFound {
            return Response(status: .ok)  // not bound: tsuru treats this as done
        } catch {
            throw TsuruError(error, during: .unbindApp)
        }
        if case .accepted(_, let running) = outcome {
            let finished = try await call(.unbindApp) { () async throws(BrokerError) in
                try await broker.awaitOperation(running.id, timeout: configuration.bindTimeout)
            }
            if finished?.state == .failed { throw TsuruError(.internalServerError, finished?.description ?? "unbinding failed") }
        }
        return Response(status: .ok)
    }

    /// DELETE /tsuru/:offering/resources/:name/bind (unit unbind) → 200, also for a unit never recorded
    /// (tsuru aborts the whole unbind on a 404); 400 without `unit-host`; 404 unknown instance.
    func unbindUnit(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let offering = try offering(context)
        let fields = try await TsuruFields.read(request)
        guard let unit = try fields.string("unit-host", json: "unitHost") else { throw TsuruError(.badRequest, "unit-host is required") }
        let instance = try await instance(context, of: offering, during: .unbindUnit)
        let appName = try fields.string("app-name", json: "appName")
        let hosts = try [fields.string("app-host", json: "appHost")].compactMap { $0 } + fields.strings("app-hosts", json: "appHosts")
        _ = try await call(.unbindUnit) { () async throws(BrokerError) in
            try await broker.recordUnit(unit, adding: false, instance: .id(instance.id)) { binding in
                if let appName { return binding.appKey == appName }
                if !hosts.isEmpty {
                    let recorded = binding.context["app-hosts"]?.arrayValue?.compactMap(\.stringValue) ?? []
                    return hosts.contains { $0 == binding.appKey || recorded.contains($0) }
                }
                return binding.units.contains(unit)
            }
        }
        return Response(status: .ok)
    }
}
