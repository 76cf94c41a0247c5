{#- one row per source row the loader rejected, with where it was and why -#}
with

rejects as (
    select * from {{ ref('stg_cakupan__rejects') }}
),

loads as (
    select load_id, raw_table, is_current from {{ ref('stg_cakupan__loads') }}
),

final as (
    select
        rejects.load_id,
        rejects.source_name,
        loads.raw_table,
        rejects.source_location,
        rejects.sheet_name,
        rejects.source_row,
        rejects.column_name,
        rejects.reason,
        rejects.source_values,
        rejects.loaded_at,
        loads.is_current as load_is_current
    from rejects
    left join loads on rejects.load_id = loads.load_id
)

select * from final
