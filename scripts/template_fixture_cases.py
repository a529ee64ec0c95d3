"""Inputs for make_template_fixtures.py: conversations for each real chat template, small
templates exercising one Jinja feature each, and malformed templates."""

SYSTEM = {"role": "system", "content": "You are a concise assistant."}
USER = {"role": "user", "content": "What is the capital of France?"}
ASSISTANT = {"role": "assistant", "content": "Paris."}
USER2 = {"role": "user", "content": "And of Italy?"}
ASSISTANT2 = {"role": "assistant", "content": "Rome."}
UNICODE = {
    "role": "user",
    "content": "  Grüße, 世界! \"quoted\" and 'single' \\backslash\\ tab\there\nnew line\r\nCRLF 🚀 <b>&amp;</b>  ",
}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7.5},
                "details": {"type": "boolean", "default": None},
            },
            "required": ["city"],
        },
        "return": {"type": "string"},
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "Current time in a zone — ünïcode ok.",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": []},
    },
}


def tool_call_turns(arguments, call_id="call12345", as_string=False):
    """A user question, an assistant tool call, the tool's answer."""
    function = {"name": "get_weather", "arguments": arguments}
    if as_string:
        import json

        function["arguments"] = json.dumps(arguments)
    return [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "", "tool_calls": [{"id": call_id, "type": "function", "function": function}]},
        {"role": "tool", "content": '{"temperature": 21, "sky": "clear"}', "tool_call_id": call_id, "name": "get_weather"},
    ]


WEATHER_ARGS = {"city": "Paris", "unit": "celsius"}


def basic_cases(system=True):
    cases = [
        ("user_only", {"messages": [USER], "add_generation_prompt": True}),
        ("user_only_no_generation_prompt", {"messages": [USER], "add_generation_prompt": False}),
        ("multi_turn_no_system", {"messages": [USER, ASSISTANT, USER2], "add_generation_prompt": True}),
        ("assistant_last", {"messages": [USER, ASSISTANT], "add_generation_prompt": False}),
        ("unicode_quotes_newlines", {"messages": [UNICODE], "add_generation_prompt": True}),
        ("long_conversation", {"messages": [USER, ASSISTANT, USER2, ASSISTANT2, USER], "add_generation_prompt": True}),
    ]
    if system:
        cases += [
            ("system_user", {"messages": [SYSTEM, USER], "add_generation_prompt": True}),
            ("system_multi_turn", {"messages": [SYSTEM, USER, ASSISTANT, USER2], "add_generation_prompt": True}),
            ("system_assistant_last", {"messages": [SYSTEM, USER, ASSISTANT], "add_generation_prompt": False}),
        ]
    return cases


def tool_cases(arguments_as_string=False):
    return [
        ("tools_defined", {"messages": [SYSTEM, USER], "tools": [WEATHER_TOOL, TIME_TOOL], "add_generation_prompt": True}),
        ("tools_no_system", {"messages": [USER], "tools": [WEATHER_TOOL], "add_generation_prompt": True}),
        (
            "tool_call_round_trip",
            {"messages": tool_call_turns(WEATHER_ARGS), "tools": [WEATHER_TOOL], "add_generation_prompt": True},
        ),
        (
            "tool_call_then_answer",
            {
                "messages": tool_call_turns(WEATHER_ARGS) + [{"role": "assistant", "content": "It is 21 °C and clear."}],
                "tools": [WEATHER_TOOL],
                "add_generation_prompt": False,
            },
        ),
    ] + (
        [
            (
                "tool_call_string_arguments",
                {"messages": tool_call_turns(WEATHER_ARGS, as_string=True), "tools": [WEATHER_TOOL],
                 "add_generation_prompt": True},
            )
        ]
        if arguments_as_string
        else []
    )


LLAMA_TOKENS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"}
QWEN_TOKENS = {"bos_token": "", "eos_token": "<|im_end|>"}

LLAMA31_EXTRA = [
    ("tools_in_system_message", {"messages": [SYSTEM, USER], "tools": [WEATHER_TOOL], "tools_in_user_message": False,
                                 "add_generation_prompt": True}),
    ("builtin_tools", {"messages": [SYSTEM, USER], "builtin_tools": ["brave_search", "wolfram_alpha", "code_interpreter"],
                       "add_generation_prompt": True}),
    ("builtin_tool_call", {"messages": [
        {"role": "user", "content": "Search the news"},
        {"role": "assistant", "tool_calls": [{"type": "function", "function": {
            "name": "brave_search", "arguments": {"query": "news today"}}}]},
        {"role": "ipython", "content": {"results": ["a", "b"]}}],
        "builtin_tools": ["brave_search"], "add_generation_prompt": True}),
    ("custom_date_string", {"messages": [USER], "date_string": "01 Jan 2030", "add_generation_prompt": True}),
    ("custom_tools", {"messages": [USER], "custom_tools": [TIME_TOOL], "add_generation_prompt": True}),
    ("error_two_tool_calls", {"messages": [
        USER, {"role": "assistant", "tool_calls": [
            {"type": "function", "function": {"name": "a", "arguments": {}}},
            {"type": "function", "function": {"name": "b", "arguments": {}}}]}],
        "add_generation_prompt": True}),
    ("error_tools_without_user", {"messages": [SYSTEM], "tools": [WEATHER_TOOL], "add_generation_prompt": True}),
    ("error_no_messages", {"messages": [], "add_generation_prompt": True}),
]

QWEN3_EXTRA = [
    ("reasoning_content", {"messages": [USER, {"role": "assistant", "content": "Paris.",
                                               "reasoning_content": "The user asks about France.\n"}, USER2],
                           "add_generation_prompt": True}),
    ("reasoning_content_last", {"messages": [USER, {"role": "assistant", "content": "\nParis.",
                                                    "reasoning_content": "\nFrance's capital.\n"}],
                                "add_generation_prompt": False}),
    ("think_tags_in_content", {"messages": [USER, {"role": "assistant",
                                                   "content": "<think>\nLet me recall.\n</think>\n\nParis."}],
                               "add_generation_prompt": False}),
    ("think_tags_earlier_turn", {"messages": [USER, {"role": "assistant",
                                                     "content": "<think>\nRecall.\n</think>\n\nParis."}, USER2],
                                 "add_generation_prompt": True}),
    ("enable_thinking_false", {"messages": [USER], "enable_thinking": False, "add_generation_prompt": True}),
    ("enable_thinking_true", {"messages": [USER], "enable_thinking": True, "add_generation_prompt": True}),
    ("multi_step_tools", {"messages": tool_call_turns(WEATHER_ARGS) + [
        {"role": "assistant", "content": "Checking time too.", "tool_calls": [
            {"type": "function", "function": {"name": "get_time", "arguments": {"zone": "CET"}}}]},
        {"role": "tool", "content": "09:26"},
        {"role": "tool", "content": "second result"}], "tools": [WEATHER_TOOL, TIME_TOOL],
        "add_generation_prompt": True}),
    ("tool_response_as_user", {"messages": [
        {"role": "user", "content": "<tool_response>\nold\n</tool_response>"}, USER], "add_generation_prompt": True}),
    ("system_in_middle", {"messages": [USER, ASSISTANT, {"role": "system", "content": "Be brief."}, USER2],
                          "add_generation_prompt": True}),
]

MISTRAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>"}
MISTRAL_EXTRA = [
    ("error_not_alternating", {"messages": [USER, USER2], "add_generation_prompt": True}),
    ("error_assistant_first", {"messages": [ASSISTANT, USER], "add_generation_prompt": True}),
    ("error_bad_tool_call_id", {"messages": tool_call_turns(WEATHER_ARGS, call_id="short"),
                                "tools": [WEATHER_TOOL], "add_generation_prompt": True}),
    ("error_unknown_role", {"messages": [USER, {"role": "critic", "content": "Hmm."}], "add_generation_prompt": True}),
    ("tool_result_mapping", {"messages": [
        USER,
        {"role": "assistant", "tool_calls": [{"id": "abcdefghi", "type": "function",
                                             "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": {"content": "cold"}, "tool_call_id": "abcdefghi"}], "add_generation_prompt": True}),
]

GEMMA_TOKENS = {"bos_token": "<bos>", "eos_token": "<eos>"}
GEMMA3_EXTRA = [
    ("content_parts", {"messages": [
        {"role": "system", "content": [{"type": "text", "text": "Describe images."}]},
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "  What is this?  "}]}],
        "add_generation_prompt": True}),
    ("error_not_alternating", {"messages": [USER, USER2], "add_generation_prompt": True}),
    ("error_system_only_then_assistant", {"messages": [SYSTEM, ASSISTANT], "add_generation_prompt": True}),
    ("error_invalid_content", {"messages": [{"role": "user", "content": None}], "add_generation_prompt": True}),
]

SMOLLM2_TOKENS = {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}

TEMPLATE_SUITES = [
    ("smollm2", SMOLLM2_TOKENS, basic_cases() + [("no_messages", {"messages": [], "add_generation_prompt": True})]),
    ("llama-3.1", LLAMA_TOKENS, basic_cases() + tool_cases() + LLAMA31_EXTRA),
    ("llama-3.2", LLAMA_TOKENS, basic_cases() + tool_cases() + [
        ("strftime_date", {"messages": [SYSTEM, USER], "add_generation_prompt": True})]),
    ("qwen2.5", QWEN_TOKENS, basic_cases() + tool_cases()),
    ("qwen3", QWEN_TOKENS, basic_cases() + tool_cases(arguments_as_string=True) + QWEN3_EXTRA),
    ("mistral-nemo", MISTRAL_TOKENS, basic_cases() + tool_cases() + MISTRAL_EXTRA),
    ("gemma-3", GEMMA_TOKENS, basic_cases() + GEMMA3_EXTRA),
    ("gemma-2", GEMMA_TOKENS, basic_cases(system=False) + [
        ("error_system", {"messages": [SYSTEM, USER], "add_generation_prompt": True})]),
    ("smollm3", SMOLLM2_TOKENS, basic_cases() + tool_cases() + [
        ("no_think", {"messages": [USER], "enable_thinking": False, "add_generation_prompt": True}),
        ("no_think_in_system", {"messages": [{"role": "system", "content": "Be terse. /no_think"}, USER],
                                "add_generation_prompt": True})]),
    ("phi-3.5", {"bos_token": "<s>", "eos_token": "<|endoftext|>"}, basic_cases()),
    ("deepseek-r1-distill-qwen", {"bos_token": "<｜begin▁of▁sentence｜>", "eos_token": "<｜end▁of▁sentence｜>"},
     basic_cases() + [("think_in_content", {"messages": [
         USER, {"role": "assistant", "content": "<think>hmm</think>Paris."}, USER2], "add_generation_prompt": True})]),
    ("hermes-2-pro", {"bos_token": "<|begin_of_text|>", "eos_token": "<|im_end|>"}, tool_cases() + [
        ("error_tools_none", {"messages": [USER], "add_generation_prompt": True})]),
    ("gpt-oss", {"bos_token": "<|startoftext|>", "eos_token": "<|return|>"}, basic_cases() + tool_cases() + [
        ("reasoning_effort_high", {"messages": [USER], "reasoning_effort": "high", "add_generation_prompt": True}),
        ("thinking_field", {"messages": [USER, {"role": "assistant", "content": "Paris.", "thinking": "Easy."}, USER2],
                            "add_generation_prompt": True}),
        ("builtin_browser", {"messages": [USER], "builtin_tools": ["browser", "python"], "add_generation_prompt": True}),
    ]),
]

# (name, template, context): one Jinja feature each, checked against jinja2's output.
FEATURE_CASES = [
    # Whitespace control, trim_blocks, lstrip_blocks, comments, raw.
    ("text_only", "Hello, world!", {}),
    ("trailing_newline_dropped", "line\n", {}),
    ("two_trailing_newlines", "line\n\n", {}),
    ("crlf_normalized", "a\r\nb\rc\n", {}),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip_blocks", "  {% if true %}\n    x\n  {% endif %}\ny", {}),
    ("lstrip_not_for_variables", "  {{ 'v' }}\n", {}),
    ("lstrip_text_before_tag", "text {% if true %}x{% endif %}", {}),
    ("lstrip_tabs", "\t\t{% if true %}\tx{% endif %}\n", {}),
    ("strip_minus_block", "a   \n  {%- if true -%}  \n  b  \n {%- endif -%}\n\n c", {}),
    ("strip_minus_variable", "a  {{- 'b' -}}  c", {}),
    ("strip_plus_block", "  {%+ if true %}x{% endif +%}\ny", {}),
    ("comment", "a{# comment #}b", {}),
    ("comment_trim", "a\n{# comment #}\nb", {}),
    ("comment_minus", "a   {#- comment -#}   b", {}),
    ("comment_lstrip", "a\n   {# c #}\nb", {}),
    ("comment_open_at_end", "text{#", {}),
    ("raw_open_at_end", "text{% raw %}", {}),
    ("comment_multiline", "a{# line1\nline2 #}b {{ x }}", {"x": 1}),
    ("raw_block", "{% raw %}{{ not evaluated }}{% endraw %}", {}),
    ("raw_block_whitespace", "x\n  {% raw -%}\n  {{ a }}  \n  {%- endraw %}\ny", {}),
    ("raw_trim", "{% raw %}\nA\n{% endraw %}\nB", {}),
    ("newline_after_variable_kept", "{{ 'a' }}\n{{ 'b' }}\n", {}),
    ("nested_lstrip", "{% for i in [1, 2] %}\n    {% if i %}\n        {{ i }}\n    {% endif %}\n{% endfor %}\n", {}),
    ("block_on_own_line_after_text", "x\n    {%- if true %}\ny{% endif %}", {}),
    # Literals and printing.
    ("print_none_bool", "{{ none }} {{ None }} {{ true }} {{ False }}", {}),
    ("print_numbers", "{{ 42 }} {{ -7 }} {{ 3.5 }} {{ 1e3 }} {{ 2.5e-7 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }}", {}),
    ("print_floats", "{{ 1.0 }} {{ 0.1 + 0.2 }} {{ 1/3 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ 0.00001 }} {{ -0.0 }} {{ 123456789.123 }}", {}),
    ("print_float_context", "{{ x }} {{ y }} {{ z }}", {"x": 2.0, "y": 1e100, "z": 5e-324}),
    ("print_list_repr", "{{ [1, 'a', \"b'c\", none, true, 1.5, [2], {'k': 'v'}] }}", {}),
    ("print_tuple_repr", "{{ (1,) }} {{ (1, 2) }} {{ () }} {{ 1, 2 }}", {}),
    ("print_dict_repr", "{{ {'a': 1, 'b': [1, 2], 3: none} }}", {}),
    ("repr_escapes", "{{ ['tab\\there', 'new\\nline', 'back\\\\slash', 'quote\\'s', \"dq\\\"s\", 'both\\'\"'] }}", {}),
    ("repr_unicode", "{{ ['é', '世界', '\\u200b', '\\x00', '\\x7f', '\\xa0', '🚀'] }}", {}),
    ("string_escapes", "{{ 'a\\tb\\nc\\\\d\\'e\\\"f\\x41\\u00e9\\U0001F600\\101\\q' }}", {}),
    ("string_concat_adjacent", "{{ 'a' 'b' \"c\" }}", {}),
    ("string_with_newline_literal", "{{ 'a\nb' }}", {}),
    ("print_context_values", "{{ s }}|{{ i }}|{{ f }}|{{ b }}|{{ n }}|{{ l }}|{{ d }}",
     {"s": "str", "i": 1, "f": 1.25, "b": True, "n": None, "l": [1, "x", None], "d": {"k": [True, 2.0]}}),
    ("print_undefined", "[{{ missing }}][{{ missing|string }}]", {}),
    # Expressions.
    ("arithmetic", "{{ 7 + 3 }} {{ 7 - 3 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", {}),
    ("arithmetic_negative", "{{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ -7.5 // 2 }} {{ 7.5 % -2 }} {{ -(3) }} {{ +3 }}", {}),
    ("arithmetic_float", "{{ 1.5 + 1 }} {{ 3 * 0.1 }} {{ 10 / 4 }} {{ 2.0 ** 0.5 }} {{ 9 ** 0.5 }} {{ 1 - 0.9 }}", {}),
    ("arithmetic_bool", "{{ true + 1 }} {{ true * 3 }} {{ false - 1 }}", {}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 'a' + 'b' ~ 'c' }} {{ 10 - 2 - 3 }}", {}),
    ("string_ops", "{{ 'ab' + 'cd' }} {{ 'ab' * 3 }} {{ 3 * 'x' }} {{ 'a' ~ 1 ~ none ~ true }} {{ [1] + [2] }} {{ [0] * 3 }}", {}),
    ("string_format_percent", "{{ '%s and %d' % ('x', 42) }} {{ '%05.2f|%-4s|%x' % (3.14159, 'ab', 255) }} {{ '%(a)s' % {'a': 1} }}", {}),
    ("comparisons", "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 1 != 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}", {}),
    ("equality_mixed", "{{ 1 == true }} {{ 0 == false }} {{ none == none }} {{ 'a' == 'a' }} {{ [1] == [1] }} {{ {'a': 1} == {'a': 1} }} {{ (1,) == [1] }}", {}),
    ("logic", "{{ true and false }} {{ true or false }} {{ not true }} {{ 0 or 'x' }} {{ '' and 'y' }} {{ none or [] }} {{ 'a' and 'b' }}", {}),
    ("in_operator", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1, 2] }} {{ 'x' not in 'abc' }} {{ 1 in (1, 2) }}", {}),
    ("in_undefined", "{{ 1 in missing }}", {}),
    ("conditional_expression", "{{ 'yes' if true else 'no' }} {{ 'yes' if false else 'no' }} [{{ 'only' if false }}] {{ 1 if 0 else 2 if 0 else 3 }}", {}),
    ("attribute_and_item", "{{ d.a }} {{ d['a'] }} {{ d.b.c }} {{ l[0] }} {{ l[-1] }} {{ l.1 }} {{ d['b']['c'] }}",
     {"d": {"a": 1, "b": {"c": 2}}, "l": [10, 20, 30]}),
    ("missing_attribute_is_undefined", "[{{ d.zz }}] [{{ d['zz'] }}] [{{ l[9] }}] {{ d.zz is defined }} {{ d.zz is undefined }}",
     {"d": {"a": 1}, "l": [1]}),
    ("dict_method_names_win", "{{ d.items is defined }} {{ d['items'] }} {{ d.get('items') }}",
     {"d": {"items": "the key"}}),
    ("slicing", "{{ l[1:] }} {{ l[:2] }} {{ l[-2:] }} {{ l[::2] }} {{ l[::-1] }} {{ l[1:-1] }} {{ l[5:] }} {{ l[-10:2] }} {{ l[3:0:-1] }}",
     {"l": [0, 1, 2, 3, 4]}),
    ("string_slicing", "{{ s[1:4] }} {{ s[::-1] }} {{ s[-3:] }} {{ s[0] }} {{ s[-1] }} {{ s|length }}", {"s": "héllo wörld"}),
    ("tuple_and_list_literals", "{% for a, b in [(1, 2), [3, 4]] %}{{ a }}-{{ b }};{% endfor %}", {}),
    ("dict_literal_order", "{{ {'z': 1, 'a': 2, 'm': 3}|tojson }}", {}),
    ("none_attribute", "[{{ n.x }}] {{ n.x is defined }}", {"n": None}),
    # Statements.
    ("if_elif_else", "{% for x in [1, 2, 3, 4] %}{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}other{% endif %} {% endfor %}", {}),
    ("for_loop_variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }} {% endfor %}", {}),
    ("for_loop_neighbours", "{% for x in [1, 2, 3] %}[{{ loop.previtem }}|{{ loop.nextitem }}|{{ loop.previtem is defined }}]{% endfor %}", {}),
    ("for_loop_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", {}),
    ("for_loop_changed", "{% for x in [1, 1, 2, 2, 1] %}{{ loop.changed(x) }} {% endfor %}", {}),
    ("for_loop_depth", "{% for x in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %} {% for x in [1] %}x{% else %}empty{% endfor %}", {}),
    ("for_else_after_continue_or_break", "{% for x in [1, 2] %}{% continue %}{% else %}A{% endfor %}{% for x in [1, 2] %}{% break %}{% else %}B{% endfor %}{% for x in [1, 2] %}{% if x == 2 %}{% break %}{% endif %}{% else %}C{% endfor %}", {}),
    ("for_filter_condition", "{% for x in range(10) if x is odd %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}", {}),
    ("for_over_dict", "{% for k in d %}{{ k }}{% endfor %} {% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("for_over_string", "{% for c in 'héllo' %}{{ c }}.{% endfor %}", {}),
    ("for_over_undefined", "[{% for x in missing %}x{% endfor %}]", {}),
    ("for_nested_loop_variable", "{% for i in [1, 2] %}{% for j in [3, 4] %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{{ loop.index }}|{% endfor %}", {}),
    ("for_tuple_unpacking_nested", "{% for a, (b, c) in [(1, (2, 3)), (4, (5, 6))] %}{{ a }}{{ b }}{{ c }} {% endfor %}", {}),
    ("for_recursive", "{% for item in tree recursive %}{{ item.name }}{% if item.children %}({{ loop(item.children) }}){% endif %}{% endfor %}",
     {"tree": [{"name": "a", "children": [{"name": "b", "children": []}, {"name": "c", "children": [{"name": "d"}]}]}, {"name": "e"}]}),
    ("break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("break_in_nested", "{% for i in range(3) %}{% for j in range(3) %}{% if j == 1 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}", {}),
    ("set_simple", "{% set x = 5 %}{% set y = x * 2 %}{{ x }} {{ y }}", {}),
    ("set_tuple_unpacking", "{% set a, b = 1, 2 %}{% set c, d = [3, 4] %}{{ a }}{{ b }}{{ c }}{{ d }}", {}),
    ("set_block", "{% set block %}Hello {{ name }}!{% endset %}[{{ block }}]", {"name": "World"}),
    ("set_block_filter", "{% set block | upper | trim %}  hello  {% endset %}[{{ block }}]", {}),
    ("set_scoping_loop", "{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = i + 10 %}{{ x }} {% endfor %}{{ x }}", {}),
    ("set_scoping_loop_previous_iteration", "{% for i in [1, 2] %}[{{ y }}]{% set y = i %}{% endfor %}", {}),
    ("set_scoping_if", "{% if true %}{% set x = 'inner' %}{% endif %}{{ x }}", {}),
    ("set_scoping_if_in_loop", "{% set x = 7 %}{% for i in range(2) %}{% if i == 1 %}{% set x = 10 %}{% endif %}{{ x }}{% endfor %}{{ x }}", {}),
    ("set_shadows_context", "{% set messages = messages[1:] %}{{ messages|length }}", {"messages": [1, 2, 3]}),
    ("namespace", "{% set ns = namespace(count=0, items=[]) %}{% for x in range(4) %}{% set ns.count = ns.count + x %}{% endfor %}{{ ns.count }} {{ ns.items }}", {}),
    ("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }} {{ ns }}", {}),
    ("namespace_empty_then_set", "{% set ns = namespace() %}{% set ns.flag = true %}{{ ns.flag }} [{{ ns.missing }}]", {}),
    ("macro_simple", "{% macro greet(name, greeting='Hello') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet(greeting='Yo', name='Cy') }}", {}),
    ("macro_missing_argument", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }} {{ varargs }} {{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro_closure", "{% set z = 4 %}{% macro m() %}{{ z }}{% endmacro %}{% set z = 5 %}{{ m() }}", {}),
    ("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("macro_scope_isolated", "{% set x = 1 %}{% macro m() %}{% set x = 2 %}{{ x }}{% endmacro %}{{ m() }}{{ x }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_arguments", "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each([1, 2]) %}<{{ x }}>{% endcall %}", {}),
    ("filter_block", "{% filter upper %}hello {{ name }}{% endfilter %}", {"name": "bob"}),
    ("filter_block_chain", "{% filter trim|replace('a', 'o') %}   banana   {% endfilter %}", {}),
    ("filter_block_scope", "{% set x = 1 %}{% filter upper %}{% set x = 2 %}a{% endfilter %}{{ x }}", {}),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("print_statement", "{% print 'x' ~ 1 %}", {}),
    ("generation_block", "{% for m in messages %}{% generation %}{{ m }}{% set inner = 1 %}{% endgeneration %}{% endfor %}[{{ inner }}]", {"messages": ["a", "b"]}),
    # Tests.
    ("tests_defined", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ x is not defined }}", {"x": 1}),
    ("tests_types", "{{ 's' is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ none is none }} {{ 0 is none }}", {}),
    ("tests_containers", "{{ {} is mapping }} {{ [] is mapping }} {{ [] is sequence }} {{ 's' is sequence }} {{ {} is sequence }} {{ 1 is sequence }} {{ [] is iterable }} {{ 's' is iterable }} {{ 1 is iterable }} {{ x is iterable }}", {}),
    ("tests_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ '' is false }} {{ none is false }}", {}),
    ("tests_numbers", "{{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ 0 is even }}", {}),
    ("tests_comparison", "{{ 1 is equalto 1 }} {{ 1 is eq 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} {{ 1 is lt 2 }} {{ 1 is le 0 }} {{ 1 is ne 1 }} {{ 2 is greaterthan 1 }} {{ 1 is lessthan 2 }}", {}),
    ("tests_sameas", "{{ none is sameas none }} {{ true is sameas true }} {{ 1 is sameas 1 }} {{ false is sameas 0 }}", {}),
    ("tests_case", "{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'Abc' is lower }} {{ '123' is upper }}", {}),
    ("tests_in", "{{ 1 is in [1, 2] }} {{ 'a' is in 'xyz' }}", {}),
    ("tests_filter_test_names", "{{ 'upper' is filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ 'nope' is test }}", {}),
    ("tests_callable", "{{ range is callable }} {{ 'x' is callable }} {{ 'x'.upper is callable }}", {}),
    ("tests_not_precedence", "{{ not x is defined }} {{ not 1 is odd }}", {}),
    # Filters.
    ("filter_trim", "[{{ '  a b  '|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '\\n\\t a \\u3000'|trim }}]", {}),
    ("filter_tojson", "{{ d|tojson }}", {"d": {"b": [1, 2.5, None, True], "a": "é \"q\" \\ \n \u0001", "c": {}}}),
    ("filter_tojson_indent", "{{ d|tojson(indent=2) }}|{{ [1, [2, []], {}]|tojson(indent=4) }}", {"d": {"a": [1, {"x": "y"}], "b": {}}}),
    ("filter_tojson_options", "{{ d|tojson(sort_keys=true) }} {{ d|tojson(ensure_ascii=true) }} {{ d|tojson(separators=(',', ':')) }} {{ d|tojson(indent='\\t') }}",
     {"d": {"z": "ü🚀", "a": 1}}),
    ("filter_tojson_scalars", "{{ 1|tojson }} {{ 1.5|tojson }} {{ none|tojson }} {{ true|tojson }} {{ 's'|tojson }} {{ (1, 2)|tojson }} {{ {1: 2, none: 3, true: 4, 1.5: 5}|tojson }}", {}),
    ("filter_length_count", "{{ 'héllo'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }} {{ missing|length }}", {}),
    ("filter_list", "{{ 'abc'|list }} {{ {'a': 1, 'b': 2}|list }} {{ (1, 2)|list }} {{ missing|list }}", {}),
    ("filter_string", "{{ 1|string }} {{ [1, 'a']|string }} {{ none|string }} {{ (1|string) ~ 'x' }}", {}),
    ("filter_int_float", "{{ '42'|int }} {{ '42.7'|int }} {{ 3.9|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '0x1A'|int(0, 16) }} {{ 'ff'|int(base=16) }} {{ ' 12 '|int }} {{ true|int }} {{ none|int }}", {}),
    ("filter_float", "{{ '3.25'|float }} {{ 2|float }} {{ 'x'|float }} {{ 'x'|float(1.5) }} {{ ' 1e3 '|float }} {{ none|float }}", {}),
    ("filter_case", "{{ 'Hello World'|lower }} {{ 'hello'|upper }} {{ 'hello wORLD-foo(bar'|title }} {{ 'hELLO world'|capitalize }} {{ 'straße'|upper }}", {}),
    ("filter_replace", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }} {{ 123|replace(2, 9) }}", {}),
    ("filter_join", "{{ [1, 2, 3]|join }} {{ [1, 2, 3]|join(', ') }} {{ users|join(', ', attribute='name') }} {{ 'abc'|join('-') }}",
     {"users": [{"name": "a"}, {"name": "b"}]}),
    ("filter_first_last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} {{ 'abc'|last }} [{{ []|first }}] {{ {'k': 1, 'j': 2}|first }}", {}),
    ("filter_default", "{{ missing|default('d') }} {{ missing|d('x') }} {{ ''|default('e') }} {{ ''|default('e', true) }} {{ none|default('n') }} {{ 0|default(5, boolean=true) }}", {}),
    ("filter_selectattr", "{{ msgs|selectattr('role', 'equalto', 'user')|list }} {{ msgs|selectattr('flag')|map(attribute='role')|list }} {{ msgs|rejectattr('role', 'eq', 'user')|list|length }}",
     {"msgs": [{"role": "user", "flag": True}, {"role": "assistant", "flag": False}, {"role": "user"}]}),
    ("filter_select_reject", "{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ [0, 1, '', 'a', none]|select|list }} {{ [1, 5, 9]|select('gt', 4)|list }} {{ ['a', 'b']|select('in', 'abc')|list }}", {}),
    ("filter_map", "{{ ['a', 'b']|map('upper')|list }} {{ users|map(attribute='name')|join(',') }} {{ users|map(attribute='age', default=0)|list }} {{ [1.5, 2.5]|map('round')|list }} {{ ['a,b']|map('replace', ',', ';')|list }}",
     {"users": [{"name": "a", "age": 3}, {"name": "b"}]}),
    ("filter_items", "{% for k, v in d|items %}{{ k }}:{{ v }} {% endfor %}{{ d|items|list }}", {"d": {"x": 1, "y": [2]}}),
    ("filter_unique", "{{ [1, 2, 1, 3, 2]|unique|list }} {{ ['a', 'A', 'b']|unique|list }} {{ ['a', 'A']|unique(case_sensitive=true)|list }} {{ users|unique(attribute='g')|map(attribute='n')|list }}",
     {"users": [{"g": 1, "n": "a"}, {"g": 2, "n": "b"}, {"g": 1, "n": "c"}]}),
    ("filter_sort", "{{ [3, 1, 2]|sort }} {{ [3, 1, 2]|sort(reverse=true) }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', 'c']|sort(case_sensitive=true) }} {{ users|sort(attribute='age')|map(attribute='n')|list }} {{ users|sort(attribute='g,age')|map(attribute='n')|list }}",
     {"users": [{"n": "x", "age": 30, "g": 2}, {"n": "y", "age": 20, "g": 2}, {"n": "z", "age": 25, "g": 1}]}),
    ("filter_reverse", "{{ 'abc'|reverse }} {{ [1, 2, 3]|reverse|list }} {{ (1, 2)|reverse|join }}", {}),
    ("filter_safe_escape", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }} {{ '<i>'|escape|escape }} {{ '<'|safe|e }} {{ '<x>'|forceescape }}", {}),
    ("filter_indent", "[{{ 'a\\nb\\n\\nc'|indent }}] [{{ 'a\\nb'|indent(2, true) }}] [{{ 'a\\n\\nb'|indent(width='> ', blank=true) }}] [{{ 'x\\n'|indent(first=true) }}]", {}),
    ("filter_wordcount", "{{ 'Hello, world! It is 2025_x.'|wordcount }} {{ ''|wordcount }}", {}),
    ("filter_abs_round", "{{ -3|abs }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 3.14159|round(2, 'floor') }} {{ 3.14159|round(1, 'ceil') }} {{ 7|round }} {{ 1234|round(-2) }} {{ 1250|round(-2) }}", {}),
    ("filter_batch_slice", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }} {{ [1, 2, 3, 4, 5]|slice(2)|list }} {{ [1, 2, 3, 4]|slice(3, 0)|list }}", {}),
    ("filter_dictsort", "{{ d|dictsort }} {{ d|dictsort(reverse=true) }} {{ d|dictsort(by='value') }} {{ {'b': 1, 'A': 2}|dictsort }} {{ {'b': 1, 'A': 2}|dictsort(true) }}", {"d": {"b": 2, "a": 3, "c": 1}}),
    ("filter_sum_min_max", "{{ [1, 2, 3]|sum }} {{ [1.5, 2]|sum }} {{ users|sum(attribute='age') }} {{ [1, 2]|sum(start=10) }} {{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ ['b', 'A']|min }} {{ users|max(attribute='age') }} [{{ []|max }}]",
     {"users": [{"age": 3}, {"age": 5}]}),
    ("filter_center_truncate", "[{{ 'ab'|center(7) }}] [{{ 'abc'|center(8) }}] {{ 'hello world foo'|truncate(9) }} {{ 'hello world foo'|truncate(9, true) }} {{ 'hello world foo'|truncate(12, leeway=0) }} {{ 'short'|truncate(3, end='') }}", {}),
    ("filter_attr", "{{ 'abc'|attr('upper') is defined }} [{{ d|attr('a') }}] {{ d|attr('items') is defined }}", {"d": {"a": 1}}),
    ("filter_format", "{{ '%s-%s'|format('a', 'b') }} {{ '%(x)s'|format(x=1) }} {{ '%.3f'|format(2) }}", {}),
    ("filter_chain_precedence", "{{ -3|abs }} {{ 'a' ~ 'b'|upper }} {{ 1 + [1, 2]|length }} {{ not 'x'|length }}", {}),
    ("filter_generator_results", "{{ [1, 2]|select('odd') is iterable }} {{ ([]|select)|list }} {% if []|select %}truthy{% endif %}", {}),
    # Methods.
    ("str_methods_strip", "[{{ '  x  '.strip() }}] [{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '\\n\\nhi\\n'.lstrip('\\n') }}]", {}),
    ("str_methods_split", "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c'.rsplit(' ', 1) }} {{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'l1\\nl2\\r\\nl3'.splitlines() }} {{ ''.split(',') }} {{ ''.split() }}", {}),
    ("str_methods_case", "{{ 'hello world'.title() }} {{ 'HELLO'.lower() }} {{ 'hello'.upper() }} {{ 'hello WORLD'.capitalize() }} {{ 'aBc'.swapcase() }} {{ \"they're bill's\".title() }}", {}),
    ("str_methods_search", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'hello'.count('l') }} {{ 'héllo'.index('l') }} {{ 'hello'.startswith('l', 2) }}", {}),
    ("str_methods_misc", "{{ 'a-b'.replace('-', '+') }} {{ ', '.join(['a', 'b']) }} {{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ '7'.zfill(3) }} {{ 'ab'.center(6, '*') }} {{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'ab'.ljust(4, '.') }}|{{ 'ab'.rjust(4) }}", {}),
    ("str_format", "{{ '{} {}'.format(1, 'a') }} {{ '{0}{1}{0}'.format('a', 'b') }} {{ '{name}!'.format(name='x') }} {{ '{{}} {{x}}'.format() }} {{ '{0.a.b[1]}'.format(d) }} {{ '{!r} {!s} {!a}'.format('q', 'q', 'é') }}",
     {"d": {"a": {"b": [10, 20]}}}),
    ("str_format_spec", "{{ '{:>8}|{:<8}|{:^8}|{:*^9}'.format('ab', 'cd', 'ef', 'gh') }} {{ '{:.2f} {:e} {:g} {:%}'.format(3.14159, 3.14159, 3.14159, 0.25) }} {{ '{:,} {:_} {:08d} {:+d} {: d} {:x} {:#x} {:#o} {:#b} {:X}'.format(1234567, 1234567, 42, 5, 5, 255, 255, 8, 5, 255) }} {{ '{:10.3f}|{:<10.3}|{:.3}|{:.0f}|{:.1}'.format(3.14159, 3.14159, 100.0, 2.5, 1.0) }} {{ '{:>{w}}'.format('x', w=5) }} {{ '{:=+8.2f}'.format(-3.5) }} {{ '{:05}'.format(-7) }} {{ '{}'.format(true) }} {{ '{:d}'.format(true) }}", {}),
    ("str_format_map", "{{ '{x}-{y}'.format_map({'x': 1, 'y': [2]}) }}", {}),
    ("str_unicode_case", "{{ s.title() }} {{ s.swapcase() }} {{ s|lower }} {{ s|upper }} {{ s|title }} {{ s|capitalize }}", {"s": "ΣΑΣ ǆungla ßtraße İstanbul ﬁne"}),
    ("error_str_format_index", "{{ '{} {}'.format(1) }}", {}),
    ("error_str_format_key", "{{ '{x}'.format(y=1) }}", {}),
    ("dict_methods", "{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 'dflt') }} {{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.items()|length }}", {"d": {"a": 1, "b": 2}}),
    ("list_methods", "{{ l.index(2) }} {{ l.count(1) }} {{ l.copy() }}", {"l": [1, 2, 1]}),
    # Globals.
    ("range_global", "{{ range(3)|list }} {{ range(1, 4)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }} {% for i in range(2, -1, -1) %}{{ i }}{% endfor %}", {}),
    ("dict_global", "{{ dict(a=1, b=2) }} {{ dict([('x', 1)]) }} {{ dict({'k': 'v'}, z=0) }}", {}),
    ("cycler_joiner", "{% set c = cycler('odd', 'even') %}{% for i in range(3) %}{{ c.next() }} {% endfor %}{{ c.current }} {% set j = joiner('|') %}{% for i in range(3) %}{{ j() }}{{ i }}{% endfor %}", {}),
    ("strftime_now", "{{ strftime_now('%d %b %Y') }} {{ strftime_now('%Y-%m-%d %H:%M:%S %A %j %p') }}", {}),
    ("raise_exception_message", "{% if true %}{{ raise_exception('Custom failure: ' ~ 42) }}{% endif %}", {}),
    # Errors at render time.
    ("error_undefined_attribute_of_undefined", "{{ missing.attr }}", {}),
    ("error_undefined_item_of_undefined", "{{ missing['k'] }}", {}),
    ("error_undefined_arithmetic", "{{ missing + 1 }}", {}),
    ("error_undefined_attribute_arithmetic", "{{ d.zz + 1 }}", {"d": {}}),
    ("error_undefined_element_arithmetic", "{{ l[5] + 1 }}", {"l": [1]}),
    ("error_concat_binds_tighter_than_plus", "{{ 1 + 2 ~ 3 }}", {}),
    ("error_add_str_int", "{{ 'a' + 1 }}", {}),
    ("error_add_int_str", "{{ 1 + 'a' }}", {}),
    ("error_add_list_str", "{{ [1] + 'a' }}", {}),
    ("error_compare_types", "{{ 'a' < 1 }}", {}),
    ("error_division_by_zero", "{{ 1 / 0 }}", {}),
    ("error_modulo_by_zero", "{{ 1 % 0 }}", {}),
    ("error_not_iterable", "{% for x in 5 %}{% endfor %}", {}),
    ("error_none_not_iterable", "{% for x in none %}{% endfor %}", {}),
    ("error_length_of_int", "{{ 5|length }}", {}),
    ("error_unpack_too_many", "{% set a, b = [1, 2, 3] %}", {}),
    ("error_unpack_too_few", "{% set a, b = [1] %}", {}),
    ("error_list_append_unsafe", "{{ l.append(4) }}", {"l": [1]}),
    ("error_dict_update_unsafe", "{{ d.update({'a': 1}) }}", {"d": {}}),
    ("error_call_undefined", "{{ nothing() }}", {}),
    ("error_call_string", "{{ 'x'() }}", {}),
    ("error_namespace_underscore", "{% set ns = namespace() %}{% set ns._hidden = 1 %}", {}),
    ("error_set_attribute_non_namespace", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("error_range_too_big", "{{ range(1000000)|length }}", {}),
    ("error_raise_in_macro", "{% macro fail() %}{{ raise_exception('from macro') }}{% endmacro %}{{ fail() }}", {}),
    ("error_macro_too_many_arguments", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("error_macro_unknown_keyword", "{% macro m(a) %}{% endmacro %}{{ m(b=2) }}", {}),
    ("error_in_string_requires_string", "{{ 1 in 'abc' }}", {}),
    ("error_int_not_iterable_in", "{{ 1 in 5 }}", {}),
    ("error_tojson_undefined", "{{ missing|tojson }}", {}),
    ("error_tojson_namespace", "{{ namespace(a=1)|tojson }}", {}),
    ("error_items_non_mapping", "{{ [1]|items|list }}", {}),
    ("error_unknown_filter_in_if", "{% if x %}{{ x|nosuchfilter }}{% endif %}", {"x": 1}),
    ("unknown_filter_in_untaken_branch", "{% if x %}{{ x|nosuchfilter }}{% endif %}ok", {"x": 0}),
    ("error_slice_step_zero", "{{ [1, 2][::0] }}", {}),
    ("error_empty_separator", "{{ 'a'.split('') }}", {}),
    ("error_string_join_non_strings", "{{ ', '.join([1, 2]) }}", {}),
]

# (name, template): jinja2 refuses each one; the tests check the line number and that the
# error is a syntax error.
MALFORMED_CASES = [
    ("unclosed_if", "line1\n{% if true %}\nbody"),
    ("unclosed_for", "{% for x in y %}\n{{ x }}\n"),
    ("unclosed_variable", "a {{ x "),
    ("unclosed_comment", "a\n{# comment"),
    ("unclosed_raw", "{% raw %}\nabc"),
    ("unknown_tag", "ok\n{% frobnicate %}"),
    ("endfor_without_for", "{% endfor %}"),
    ("mismatched_end", "{% if x %}\n{% endfor %}"),
    ("elif_after_else", "{% if x %}a{% else %}b{% elif y %}c{% endif %}"),
    ("bad_expression", "{{ 1 + }}"),
    ("empty_expression", "{{ }}"),
    ("unbalanced_paren", "{{ (1 + 2 }}"),
    ("unexpected_close_bracket", "{{ 1 ] }}"),
    ("bad_character", "{{ 1 $ 2 }}"),
    ("unterminated_string", "{{ 'abc }}"),
    ("unknown_filter", "\n\n{{ x|nosuchfilter }}"),
    ("unknown_test", "{{ x is nosuchtest }}"),
    ("unknown_filter_in_loop", "{% for x in y %}\n{{ x|nosuchfilter }}{% endfor %}"),
    ("set_without_value", "{% set %}"),
    ("assign_to_literal", "{% set 1 = 2 %}"),
    ("for_without_in", "{% for x y %}{% endfor %}"),
    ("macro_default_order", "{% macro m(a=1, b) %}{% endmacro %}"),
    ("chained_is", "{{ x is defined is defined }}"),
    ("call_block_without_call", "{% call foo %}{% endcall %}"),
    ("trailing_operator_in_block", "{% if x and %}{% endif %}"),
    ("bad_subscript", "{{ x.+ }}"),
    ("keyword_then_positional", "{{ f(a=1, 2) }}"),
    ("bad_escape", "{{ '\\x4' }}"),
    ("parse_error_before_lex_error", "{% frob %}\n{{ 1 ] }}"),
    ("lex_error_before_parse_error", "{{ 1 ] }}\n{% frob %}"),
    ("end_of_template_line", "{{ f(1,\n\n"),
]
