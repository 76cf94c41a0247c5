{#-
  Row-level security on a person-level mart: the post-hook of every model under
  models/persons/marts/ (dbt_project.yml). docs/PERSONS.md, "Who sees what".

  dbt-postgres builds a table (or view) in one transaction: the new relation is created under a
  temporary name, renamed into place, then the post-hooks run (inside_transaction, the default),
  then COMMIT. So the relation other sessions first see already has row-level security on and
  forced, its policies and its grants: there is no moment when it is readable without them.

  Office roles (members of the group role `cakupan_office`, managed by `cakupan roles grant`)
  see the rows whose district_code (and kecamatan_code, when their scope names one) is in their
  scope. Scopes are data, restricted.office_scopes, read only through
  restricted.office_scopes_of(role): a security definer function with a fixed search_path that
  returns the scopes of the calling session's own role and nothing else. Office roles have no
  USAGE on `restricted`: they can neither call it themselves nor read nor change any scope; the
  policy, stored as its parsed form, calls it for them.

  The warehouse owner (the role dbt runs as) reads and writes every row through its own policy,
  but only in its own sessions: with RLS forced, a security definer function it owns, called by
  an office role, sees no rows (pg_has_role(session_user, ...) is false there).
-#}
{% macro person_rls(office_group=var('office_group', 'cakupan_office')) -%}
    {%- if model.config.materialized == 'materialized_view' -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ ": a person-level mart cannot be a materialized view: row-level"
            ~ " security does not apply to one (make it a table)") }}
    {%- elif model.config.materialized == 'view' -%}
        {{ person_rls_view(office_group) }}
    {%- else -%}
        {{ person_rls_table(office_group) }}
    {%- endif -%}
{%- endmacro %}


{% macro person_rls_table(office_group) -%}
select pg_advisory_xact_lock(hashtext('cakupan.person_rls'));
{{ person_rls_scope_function(office_group) }}
alter table {{ this }} enable row level security;
alter table {{ this }} force row level security;
drop policy if exists office_scope on {{ this }};
create policy office_scope on {{ this }} as permissive for select to public using (
    district_code in (
        select scope.district_code
        from restricted.office_scopes_of(current_user) as scope
        where scope.kecamatan_code is null
    )
    or (district_code, kecamatan_code) in (
        select scope.district_code, scope.kecamatan_code
        from restricted.office_scopes_of(current_user) as scope
        where scope.kecamatan_code is not null
    )
);
drop policy if exists warehouse_owner on {{ this }};
create policy warehouse_owner on {{ this }} as permissive for all to current_user
    using (pg_has_role(session_user, current_user, 'member'))
    with check (pg_has_role(session_user, current_user, 'member'));
{{ person_rls_grant(office_group) }}
{%- endmacro %}


{% macro person_rls_view(office_group) -%}
{#- a view reads its tables with the rights of whoever queries it, so their policies apply -#}
alter view {{ this }} set (security_invoker = true, security_barrier = true);
{{ person_rls_grant(office_group) }}
{%- endmacro %}


{% macro person_rls_grant(office_group) -%}
{#- the group exists once `cakupan roles grant` made the first office role; that command grants
    the tables built before it (those with their policy) itself -#}
do $person_rls$
begin
    if exists (select from pg_catalog.pg_roles where rolname = {{ dbt.string_literal(office_group) }}) then
        execute format('grant select on %s to %I', {{ dbt.string_literal(this | string) }}, {{ dbt.string_literal(office_group) }});
    end if;
end
$person_rls$;
{%- endmacro %}


{% macro person_rls_scope_function(office_group) -%}
create schema if not exists restricted;
create table if not exists restricted.office_scopes (
    role_name name not null,
    district_code text not null,
    kecamatan_code text,
    granted_at timestamptz not null default now(),
    constraint office_scopes_unique
        unique nulls not distinct (role_name, district_code, kecamatan_code)
);
{#- plpgsql: not inlined, and `security definer` runs it as the warehouse owner -#}
create or replace function restricted.office_scopes_of(who name)
returns table (district_code text, kecamatan_code text)
language plpgsql stable security definer
set search_path = pg_catalog, pg_temp
as $office_scopes_of$
begin
    -- only the calling session's own role (or one it is a member of): never another office's
    return query
        select scope.district_code, scope.kecamatan_code
        from restricted.office_scopes as scope
        where scope.role_name = who
          and pg_catalog.pg_has_role(session_user, who, 'member');
end
$office_scopes_of$;
revoke all on function restricted.office_scopes_of(name) from public;
do $person_rls$
begin
    if exists (select from pg_catalog.pg_roles where rolname = {{ dbt.string_literal(office_group) }}) then
        execute format('grant execute on function restricted.office_scopes_of(name) to %I', {{ dbt.string_literal(office_group) }});
    end if;
end
$person_rls$;
{%- endmacro %}
