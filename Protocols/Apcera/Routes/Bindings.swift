import BrokerCore
import Foundation
import FrontEndSupport
import HTTPTypes
import Hummingbird

extension ApceraFrontEnd {
    /// POST /apcera/bindings → 200 `{id, name, description, service_id, url, protocol{scheme}, credentials, params}`
    /// with `X-Binding-State`; 400 bad input or state; 404 unknown or deleted service; 409 busy; 502/504.
    func createBinding(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let members = try await Self.body(request, required: true)
        guard let serviceID = try Self.string(members, "service_id"), !serviceID.isEmpty else {
            throw ApceraError.badRequest("service_id is required")
        }
        let name = try Self.checked(Self.string(members, "name"), "name", pattern: Self.namePattern)
        let description = try Self.string(members, "description") ?? ""
        let id = try Self.checked(Self.string(members, "id"), "id", pattern: Self.idPattern) ?? UUID().uuidString.lowercased()
        let parameters = JSONValue.object(try Self.object(members, "params"))
        let instance = try await service(serviceID, request: request, context: context, during: .createBinding)
        let bindingName = name ?? "\(instance.name)-\(id.prefix(8))"
        let header = try bindingState(id: id, name: bindingName, serviceID: serviceID, parameters: parameters, description: description)
        let recorded: JSONValue = ["name": .string(bindingName), "description": .string(description)]
        let command = BindCommand(
            bindingID: id, instance: .id(instance.id), parameters: parameters, context: recorded, identity: recorded,
            acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call(.createBinding) { () async throws(BrokerError) in try await broker.bind(command) }
        var binding: Binding
        switch outcome {
        case .created(let created):
            binding = created
        case .accepted(let created, let running), .alreadyExists(let created, .some(let running)):
            try await waitFor(running, during: .createBinding)
            binding = try await call(.createBinding) { () async throws(BrokerError) in try await broker.binding(id: created.id) } ?? created
        case .alreadyExists(let existing, nil):
            guard existing.state == .bound else { throw ApceraError(.conflict, "conflict", "binding '\(existing.id)' is \(existing.state.rawValue)") }
            binding = existing
        }
        let credentials = binding.credentials?.values ?? [:]
        let url = credentials["uri"] ?? ""
        let scheme = url.range(of: "://").map { String(url[..<$0.lowerBound]) } ?? ""
        return JSONResponse.make(
            .ok,
            [
                "id": .string(binding.id), "name": .string(bindingName), "description": .string(description), "service_id": .string(serviceID),
                "url": .string(url), "protocol": ["scheme": .string(scheme)], "credentials": JSONValue(credentials), "params": parameters,
            ],
            headers: [Self.bindingStateHeader: header])
    }

    func bindingState(id: String, name: String, serviceID: String, parameters: JSONValue, description: String) throws -> String {
        let header = try state.encode(
            .binding, id: id, fields: ["name": .string(name), "service_id": .string(serviceID)],
            secret: ["params": parameters, "description": .string(description)])
        guard header.count <= StateCodec.maximumLength else {
            throw ApceraError.badRequest("the binding's state would pass 4096 characters: send fewer or shorter params")
        }
        return header
    }

    /// DELETE /apcera/bindings/:id → 200 `{id, name, service_id}`; 404 unknown or already deleted.
    func deleteBinding(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try verifyAllStates(request)
        let id = context.pathParameter("id") ?? ""
        let bindingState = try verified(request, Self.bindingStateHeader, as: .binding, id: id)
        _ = try await Self.deleteBody(request, id: id)
        var binding = try await call(.deleteBinding) { () async throws(BrokerError) in try await broker.binding(id: id) }
        if binding == nil, let bindingState, let serviceID = bindingState.string("service_id") {
            // A binding this ledger never saw: rebuild it (and its service) from the state Apcera kept.
            let instance = try await service(serviceID, request: request, context: context, during: .deleteBinding)
            let recorded: JSONValue = [
                "name": .string(bindingState.string("name") ?? id), "description": .string(bindingState.secret["description"]?.stringValue ?? ""),
            ]
            let parameters = bindingState.secret["params"] ?? .emptyObject
            let now = Date()
            let rebuilt = Binding(
                id: id, instanceID: instance.id, createdBy: "apcera", state: .bound, parameters: parameters, context: recorded,
                identity: Broker.bindIdentity(instanceID: instance.id, appKey: nil, parameters: parameters, protocolIdentity: recorded),
                createdAt: now, updatedAt: now)
            let outcome = try await call(.deleteBinding) { () async throws(BrokerError) in try await broker.restore(binding: rebuilt, origin: origin(context)) }
            switch outcome {
            case .known(let found), .rebuilt(let found): binding = found
            }
        }
        guard let found = binding, found.state != .deleted else { throw ApceraError.notFound("binding '\(id)' not found") }
        guard let owner = try await call(.deleteBinding, { () async throws(BrokerError) in try await broker.instance(.id(found.instanceID)) })?.instance,
            owner.tenant == configuration.tenant
        else { throw ApceraError.notFound("binding '\(id)' not found") }
        let command = UnbindCommand(binding: .id(id), acceptsIncomplete: true, origin: origin(context))
        let outcome = try await call(.deleteBinding) { () async throws(BrokerError) in try await broker.unbind(command) }
        if case .accepted(_, let running) = outcome { try await waitFor(running, during: .deleteBinding) }
        return JSONResponse.make(
            .ok, ["id": .string(id), "name": .string(found.context["name"]?.stringValue ?? id), "service_id": .string(found.instanceID)])
    }
}
