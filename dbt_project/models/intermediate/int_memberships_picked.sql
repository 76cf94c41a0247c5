{#- one row per kab/kota per month: the membership of the source the precedence picks
    (int_memberships_by_source keeps the others) -#}
with

by_source as (
    select * from {{ ref('int_memberships_by_source') }}
),

final as (
    select * from by_source
    where is_picked
)

select * from final
