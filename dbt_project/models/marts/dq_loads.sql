{#- one row per load attempt: what was read, landed, rejected and skipped, and whether the counts
    balance (rows read = rows landed + rows rejected) -#}
with

loads as (
    select * from {{ ref('stg_cakupan__loads') }}
),

final as (
    select
        load_id,
        source_name,
        raw_table,
        source_location,
        source_sha256,
        (select min(p) from unnest(periods) as p) as first_period,
        (select max(p) from unnest(periods) as p) as last_period,
        cardinality(periods) as periods_loaded,
        rows_read,
        rows_landed,
        rows_rejected,
        rows_skipped,
        status in ('succeeded', 'removed') and rows_read = rows_landed + rows_rejected
            as rows_balance,
        status,
        error_message,
        superseded_by_load_id,
        is_current,
        started_at,
        finished_at,
        extract(epoch from finished_at - started_at)::numeric(12, 3) as duration_seconds,
        removed_at,
        removed_by
    from loads
)

select * from final
