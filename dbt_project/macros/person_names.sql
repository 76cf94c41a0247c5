{#-
    The matching form of an Indonesian name (docs/PERSONS.md, "Matching"): lower case; degrees
    after a comma and titles (H., Hj., Drs., Dra., dr., Ir., Prof., S.Pd., ...) dropped; the forms
    of Muhammad (Muhamad, Mohammad, Moh., Mhd., Muh., M., ...) made one; the old spellings made
    modern (dj -> j, tj -> c, oe -> u, sj -> sy, nj -> ny and j -> y, applied alike to both
    sides so modern and old j/y agree; ch and kh -> h); punctuation and digits dropped; doubled
    letters made single; spaces collapsed. Run once per distinct name.
-#}
{% macro person_name_key(name) -%}
    nullif(
        regexp_replace(
            regexp_replace(
                replace(replace(replace(replace(replace(replace(
                    regexp_replace(
                        regexp_replace(
                            regexp_replace(
                                regexp_replace(split_part(lower({{ name }}), ',', 1), '^\s*(hj|h)\s+', ''),
                                '(^|\s)(h|hj|drs|dra|dr|ir|prof|spd|s\.pd|s\.ag|s\.e|s\.h|s\.t|s\.si|s\.kom|s\.sos|s\.kep|s\.km|skm|a\.md|amd|m\.pd|m\.si|m\.m|mm)\.(?=\s|$)',
                                ' ', 'g'
                            ),
                            '(^|\s)(muhammad|muhamad|muhammat|mohammad|mohamad|mohammed|muhammed|mochammad|mochamad|mokhammad|moch|moh|muh|mhd|mohd|md|m)\.?(?=\s|$)',
                            '\1muhammad', 'g'
                        ),
                        '[^a-z]+', ' ', 'g'
                    ),
                    'dj', 'j'), 'tj', 'c'), 'oe', 'u'), 'ch', 'h'), 'kh', 'h'), 'j', 'y'),
                '([a-z])\1+', '\1', 'g'
            ),
            '^\s+|\s+$|\s+(?=\s)', '', 'g'
        ),
        ''
    )
{%- endmacro %}


{#- The evidence of a scored pair (int_person_match_candidates) as text:
    `name 0.910, birth date =, sex =, desa =`. -#}
{% macro person_match_evidence(pair) -%}
    concat_ws(
        ', ',
        'name ' || {{ pair }}.name_similarity,
        'birth date ' || {{ pair }}.birth_date_agreement,
        'sex ' || {{ pair }}.sex_agreement,
        case {{ pair }}.place_agreement
            when 'desa' then 'desa ='
            when 'kecamatan' then 'kecamatan ='
            when 'district' then 'kab/kota ='
            else 'place !='
        end,
        case when {{ pair }}.has_unknown_nik then 'nik not in register' end
    )
{%- endmacro %}
