{#- Lead score calibration: one row per pair of bands of the same dimension where the higher
    band (band_min_score) wins less often than the lower one. Bands with fewer than
    `min_contacts` closed contacts are left out: their win rate is noise. -#}
{% test higher_bands_win_more_often(model, min_contacts) %}
with bands as (
    select dimension, band, band_min_score, win_rate
    from {{ model }}
    where closed_contacts >= {{ min_contacts }}
)

select
    higher.dimension,
    higher.band as higher_band,
    higher.win_rate as higher_win_rate,
    lower_band.band as lower_band,
    lower_band.win_rate as lower_win_rate
from bands as higher
inner join bands as lower_band
    on higher.dimension = lower_band.dimension
    and higher.band_min_score > lower_band.band_min_score
where higher.win_rate < lower_band.win_rate
{% endtest %}
