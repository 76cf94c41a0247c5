with

source as (
    select * from {{ source('cakupan', 'loads') }}
),

renamed as (
    select
        load_id,
        source as source_name,
        raw_table,
        coalesce(source_file, source_url) as source_location,
        source_sha256,
        periods,
        rows_read,
        rows_landed,
        rows_rejected,
        rows_skipped,
        status,
        error as error_message,
        superseded_by as superseded_by_load_id,
        superseded_by is null and status <> 'removed' as is_current,
        started_at,
        finished_at,
        removed_at,
        removed_by
    from source
)

select * from renamed
