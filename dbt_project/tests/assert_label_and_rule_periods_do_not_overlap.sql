-- A JKN segment has one published label on any day, and one UHC rule (rule_kind uhc) is in
-- force on any day: their validity periods never overlap.
with

labels as (
    select population_group_code as item, valid_from, valid_to
    from {{ ref('segment_labels') }}
),

rules as (
    select 'uhc' as item, valid_from, valid_to
    from {{ ref('uhc_rules') }}
    where rule_kind = 'uhc'
),

periods as (
    select * from labels
    union all
    select * from rules
)

select a.item, a.valid_from, b.valid_from as overlapping_from
from periods as a
inner join periods as b
    on a.item = b.item
    and a.valid_from < b.valid_from
    and a.valid_to >= b.valid_from
