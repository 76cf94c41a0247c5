{#- a Kemendagri kab/kota code as text with its dot: '9201' -> '92.01' (a Kemendagri code written
    without its dot; never applied to BPS codes, which number kab/kota differently) -#}
{% macro kemendagri_code(column) -%}
    case
        when trim({{ column }}) ~ '^[0-9]{4}$' then left(trim({{ column }}), 2) || '.' || right(trim({{ column }}), 2)
        else nullif(trim({{ column }}), '')
    end
{%- endmacro %}


{#- an age band label as sources write it, reduced to a key the seed age_band_aliases lists:
    '0 - 4 th' -> '0-4', '60 th ke atas' -> '60keatas', '60+' -> '60+' -#}
{% macro age_band_key(column) -%}
    regexp_replace(
        regexp_replace(lower(trim({{ column }})), '\m(tahun|thn|th)\M\.?', '', 'g'),
        '\s+', '', 'g'
    )
{%- endmacro %}


{#- the year named in a source file's name (`kepmendagri_2018.csv` -> 2018) -#}
{% macro year_in_file_name(column) -%}
    substring({{ column }} from '(?:^|[^0-9])((?:19|20)[0-9]{2})(?:[^0-9][^/]*)?$')::integer
{%- endmacro %}
