{% test unique_combination(model, columns, provenance=[]) %}
{#- no row repeats the combination of these columns (the model's grain). A failing row names
    the sources, loads and files behind the repeat (the `provenance` columns), which the
    transform prints (cakupan.pipeline) -#}
select
    {{ columns | join(', ') }},
    count(*) as n_rows
    {%- for column in provenance %},
    string_agg(distinct {{ column }}::text, ', ') as {{ column }}s
    {%- endfor %}
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
