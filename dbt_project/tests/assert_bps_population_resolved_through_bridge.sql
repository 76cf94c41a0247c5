-- Every BPS population figure reaches a kab/kota through the loaded BPS-Kemendagri bridge, and
-- the loader (which resolves BPS codes through its reference copy of the bridge) agrees: a BPS
-- code is never turned into a Kemendagri code by inserting a dot (BPS 6403 is 64.02).
select
    population.bps_code,
    population.year,
    population.district_code_loaded,
    resolved.district_code
from {{ ref('stg_bps__population') }} as population
left join {{ ref('int_bps_population_districts') }} as resolved
    on population.bps_code = resolved.bps_code
    and population.year = resolved.year
where resolved.district_code is null
    or resolved.district_code is distinct from population.district_code_loaded
