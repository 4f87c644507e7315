{#- The select list of one part of a per-CRM union, in the union's one shape (int_contacts):
    `shape`, the shape's columns in order, each with its type; `taken`, the columns a CRM has
    under the shape's names, per relation alias ({'c': ['email', ...]}); `computed`, the ones
    it derives (name: SQL expression). Every other column is a typed null, so each part names
    only what its CRM has and all parts line up. A name the shape lacks fails the compile. -#}
{% macro shaped_columns(shape, taken={}, computed={}) -%}
    {%- set names = shape | map(attribute=0) | list %}
    {%- set from_alias = {} %}
    {%- for alias, columns in taken.items() %}
        {%- for name in columns %}{% do from_alias.update({name: alias}) %}{% endfor %}
    {%- endfor %}
    {%- for name in (from_alias | list) + (computed | list) if name not in names %}
        {{ exceptions.raise_compiler_error(
            "shaped_columns: '" ~ name ~ "' is not a column of the shape (" ~ names | join(', ') ~ ")") }}
    {%- endfor %}
    {%- for name, type in shape %}
        {% if name in computed %}{{ computed[name] }}
        {%- elif name in from_alias %}{{ from_alias[name] }}.{{ name }}
        {%- else %}cast(null as {{ type }}){% endif %} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
