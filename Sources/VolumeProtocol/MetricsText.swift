/// The answer of `service.metrics`: every metric in Prometheus' text format, what a scrape of
/// `GET /metrics` returns.
public struct MetricsText: Sendable, Codable, Equatable {
    public var contentType: String
    public var text: String

    enum CodingKeys: String, CodingKey { case contentType = "content_type", text }

    public init(contentType: String, text: String) {
        self.contentType = contentType
        self.text = text
    }
}
