{% test unique_combination(model, columns) %}
{#- no row repeats the combination of these columns (the model's grain) -#}
select {{ columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
