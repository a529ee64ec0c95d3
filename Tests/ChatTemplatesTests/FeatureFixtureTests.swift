import ChatTemplates
import Testing

/// One small template per Jinja feature (whitespace control, literals, operators, statements,
/// tests, filters, methods, globals, errors), each compared with jinja2's output or error.
struct FeatureFixtureTests {
    @Test func featuresRenderLikeJinja2() throws {
        let cases = try Fixtures.objects("features.json")
        #expect(cases.count > 150)
        for object in cases {
            let label = object["name"]?.stringValue ?? "?"
            let source = try #require(object["template"]?.stringValue)
            let context = try Fixtures.context(object)
            try Fixtures.check(object, label: label) {
                try ChatTemplate(source).render(context, time: Fixtures.time)
            }
        }
    }
}
