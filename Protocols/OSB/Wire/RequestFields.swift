import BrokerCore
import FrontEndSupport
import Hummingbird

/// Typed reads of an OSB request body, each failure a 400 naming the field.
struct RequestFields {
    let members: [String: JSONValue]

    /// The body as an object; an empty body counts as `{}` only where the caller allows it.
    static func read(_ request: Request, emptyAllowed: Bool = false) async throws -> RequestFields {
        switch try await BodyReader.json(request) {
        case nil where emptyAllowed:
            return RequestFields(members: [:])
        case nil:
            throw OSBError.badRequest("the request body must be a JSON object")
        case .failure:
            throw OSBError.badRequest("the request body is not valid JSON")
        case .success(let value):
            guard let members = value.objectValue else { throw OSBError.badRequest("the request body must be a JSON object") }
            return RequestFields(members: members)
        }
    }

    /// A string field; empty strings and `null` count as absent (osb-checker sends `""`).
    func string(_ key: String) throws(OSBError) -> String? {
        guard let value = members[key], !value.isNull else { return nil }
        guard let string = value.stringValue else { throw OSBError.badRequest("\(key) must be a string") }
        return string.isEmpty ? nil : string
    }

    func requiredString(_ key: String) throws(OSBError) -> String {
        guard let value = try string(key) else { throw OSBError.badRequest("\(key) is required") }
        return value
    }

    /// An object field; nil when absent or null.
    func object(_ key: String) throws(OSBError) -> JSONValue? {
        guard let value = members[key], !value.isNull else { return nil }
        guard value.objectValue != nil else { throw OSBError.badRequest("\(key) must be a JSON object") }
        return value
    }

    /// `maintenance_info.version`; an empty object counts as absent (osb-checker sends `{}`).
    func maintenanceVersion() throws(OSBError) -> String? {
        guard let info = try object("maintenance_info") else { return nil }
        guard let version = info["version"], !version.isNull else {
            if info.objectValue?.isEmpty == true { return nil }
            throw OSBError.badRequest("maintenance_info.version is required when maintenance_info is given")
        }
        guard let text = version.stringValue, !text.isEmpty else { throw OSBError.badRequest("maintenance_info.version must be a string") }
        return text
    }
}

extension OSBFrontEnd {
    /// The catalog's offering and plan for `service_id` and `plan_id` (400 when unknown or not related).
    func resolve(serviceID: String, planID: String) throws(OSBError) -> (Offering, Plan) {
        guard let offering = broker.catalog.offering(id: serviceID) else {
            throw OSBError.badRequest("service_id '\(serviceID)' is not in the catalog")
        }
        guard let plan = offering.plans.first(where: { $0.id == planID }) else {
            throw OSBError.badRequest("plan_id '\(planID)' is not a plan of service '\(offering.name)'")
        }
        return (offering, plan)
    }

    /// 422 MaintenanceInfoConflict when the version asked for is not the plan's.
    func checkMaintenance(_ version: String?, plan: Plan) throws(OSBError) {
        guard let version else { return }
        guard let current = plan.maintenanceInfo?.version else {
            throw OSBError(
                status: .unprocessableContent, error: "MaintenanceInfoConflict",
                description: "plan '\(plan.name)' has no maintenance_info; maintenance_info.version \(version) cannot apply")
        }
        if current != version {
            throw OSBError(
                status: .unprocessableContent, error: "MaintenanceInfoConflict",
                description: "maintenance_info.version \(version) does not match the plan's version \(current)")
        }
    }

    /// Parameters validated against a plan schema (400 naming the parameter).
    func validate(_ parameters: JSONValue, against schema: JSONValue?) throws(OSBError) {
        do {
            try SchemaValidator.validate(parameters, against: schema)
        } catch {
            throw OSBError(error, during: .provision)
        }
    }
}
