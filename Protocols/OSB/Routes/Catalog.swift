import Foundation
import BrokerCore
import FrontEndSupport
import HTTPTypes
import Hummingbird
import NIOCore

extension OSBFrontEnd {
    func mountCatalog<Context: RequestContext>(on api: RouterGroup<Context>) {
        /// GET /cf/v2/catalog → 200 `{"services":[…]}` with an ETag; 304 for a matching If-None-Match; 401; 412.
        api.get("catalog") { request, _ in
            if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == catalog.etag }) {
                return Response(status: .notModified, headers: [.eTag: catalog.etag])
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json", .eTag: catalog.etag],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: catalog.bytes)))
        }
    }
}
