import ChatTemplates
import Testing

/// Hostile templates and inputs end in a clear error, never a crash, a hang or unbounded memory.
struct RobustnessTests {
    func kind(of body: () throws -> Any) -> ChatTemplateError.Kind? {
        do {
            _ = try body()
            return nil
        } catch let error as ChatTemplateError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test func deepExpressionNestingIsRefused() {
        let deep = "{{ " + String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000) + " }}"
        #expect(kind { try ChatTemplate(deep) } == .limit)
        let brackets = "{{ " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000) + " }}"
        #expect(kind { try ChatTemplate(brackets) } == .limit)
        let nots = "{{ " + String(repeating: "not ", count: 5_000) + "x }}"
        #expect(kind { try ChatTemplate(nots) } == .limit)
    }

    @Test func deepStatementNestingIsRefused() {
        let deep = String(repeating: "{% if true %}", count: 2_000) + String(repeating: "{% endif %}", count: 2_000)
        #expect(kind { try ChatTemplate(deep) } == .limit)
    }

    @Test func infiniteMacroRecursionStops() throws {
        let template = try ChatTemplate("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        #expect(kind { try template.render([:], time: Fixtures.time) } == .limit)
    }

    @Test func recursiveLoopDepthIsBounded() throws {
        var tree: JinjaValue = ["name": "leaf"]
        for _ in 0..<150 {
            tree = ["name": "node", "children": [tree]]
        }
        let template = try ChatTemplate("{% for n in [tree] recursive %}{{ loop(n.children) }}{% endfor %}")
        #expect(kind { try template.render(["tree": tree], time: Fixtures.time) } == .limit)
    }

    @Test func hugeLoopsStop() throws {
        let template = try ChatTemplate("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
        let limits = RenderLimits(loopIterations: 10_000)
        #expect(kind { try template.render([:], time: Fixtures.time, limits: limits) } == .limit)
        #expect(kind { try ChatTemplate("{{ range(10**9)|length }}").render([:], time: Fixtures.time) } == .limit)
    }

    @Test func hugeStringsStop() throws {
        #expect(kind { try ChatTemplate("{{ 'ab' * 100000000 }}").render([:], time: Fixtures.time) } == .limit)
        let doubling = "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
        #expect(kind { try ChatTemplate(doubling).render([:], time: Fixtures.time) } == .limit)
        let listDoubling = "{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
        #expect(kind { try ChatTemplate(listDoubling).render([:], time: Fixtures.time) } == .limit)
        let printing = "{% for i in range(1000) %}{{ big }}{% endfor %}"
        let big = JinjaValue.string(String(repeating: "y", count: 10_000))
        let limits = RenderLimits(outputBytes: 1 << 20)
        #expect(kind { try ChatTemplate(printing).render(["big": big], time: Fixtures.time, limits: limits) } == .limit)
        #expect(try ChatTemplate(printing).render(["big": big], time: Fixtures.time).utf8.count == 10_000_000)
    }

    @Test func deeplyNestedValuesStop() throws {
        let nesting = "{% set ns = namespace(x=[]) %}{% for i in range(10000) %}{% set ns.x = [ns.x] %}{% endfor %}"
        #expect(kind { try ChatTemplate(nesting + "{{ ns.x }}").render([:], time: Fixtures.time) } == .limit)
        #expect(kind { try ChatTemplate(nesting + "{{ ns.x|tojson }}").render([:], time: Fixtures.time) } == .limit)
        #expect(kind { try ChatTemplate(nesting + "{{ ns.x == ns.x }}").render([:], time: Fixtures.time) } == .limit)
        var value: JinjaValue = []
        for _ in 0..<1_000 { value = [value] }
        #expect(kind { try ChatTemplate("{{ v }}").render(["v": value], time: Fixtures.time) } == .limit)
        #expect(throws: JSONParseError.self) { try JinjaValue(json: String(repeating: "[", count: 100_000)) }
    }

    @Test func selfReferencingNamespaceRendersAndFrees() throws {
        let template = try ChatTemplate("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns.me.me is defined }}")
        #expect(try template.render([:], time: Fixtures.time) == "True")
    }

    @Test func integerOverflowIsAnError() throws {
        #expect(kind { try ChatTemplate("{{ 9223372036854775807 + 1 }}").render([:], time: Fixtures.time) } == .value)
        #expect(kind { try ChatTemplate("{{ 2 ** 64 }}").render([:], time: Fixtures.time) } == .value)
        #expect(kind { try ChatTemplate("{{ 99999999999999999999 }}") } == .syntax)
    }
}
