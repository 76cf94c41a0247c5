-- Every record of the BPJS membership master is explained once per kab/kota and month:
-- membership_records = person_participants - moved_in + duplicate_cards + dead + moved_out
-- + not_in_register + unmatched.
select *
from {{ ref('fct_person_reconciliation_district_month') }}
where membership_records <> person_participants - moved_in + duplicate_cards + dead + moved_out
    + not_in_register + unmatched
