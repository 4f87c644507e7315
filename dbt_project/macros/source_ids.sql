{#- Ids made unique across CRMs: the source's name, a dash and the CRM's own id
    ('hubspot-101', 'pipedrive_export-D1'); null where the CRM's id is null. This is the one
    place the rule is written: the intermediate unions call it (staging keeps each CRM's own
    ids, so its incremental tables and unit tests stay as the CRM sends them).
    `source` names the CRM ('hubspot'); a generic export's name is a column, `source_column`. -#}
{% macro source_id(id, source=none, source_column=none) -%}
    {%- if source_column is not none -%}
        {{ source_column }} || '-' || {{ id }}
    {%- else -%}
        '{{ source }}-' || {{ id }}
    {%- endif -%}
{%- endmacro %}
