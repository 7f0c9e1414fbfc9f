"""Tests for bios740.datasets.epidemics: real counts, the modelled graph, simulators, ILINet."""

import json

import numpy as np
import pytest
from scipy.optimize import brentq

from bios740.datasets import epidemics


def test_tycho_counts_are_the_published_table():
    table = epidemics.tycho_counts()
    assert len(table) == 16065
    assert set(table["disease"]) == set(epidemics.TYCHO_DISEASES)
    assert table["year"].between(1928, 2011).all()
    measles = epidemics.tycho_counts("measles")
    assert set(measles["disease"]) == {"Measles"} and measles["state"].nunique() == 51
    with pytest.raises(ValueError, match="disease must be one of"):
        epidemics.tycho_counts("influenza")


def test_tycho_incidence_scales_by_weeks_and_population():
    wide = epidemics.tycho_incidence("Measles", states=["California", "Texas"], years=(1950, 1970))
    assert list(wide.columns) == ["California", "Texas"] and list(wide.index) == list(
        range(1950, 1971)
    )
    row = epidemics.tycho_counts("Measles").query("state == 'California' and year == 1955").iloc[0]
    expected = row["count"] * 52 / row["weeks_reporting"] / row["population"] * 1e5
    assert wide.loc[1955, "California"] == pytest.approx(expected)
    # measles fell by more than 90% after the 1963 vaccine
    assert wide.loc[1968:1970].mean().mean() < 0.1 * wide.loc[1950:1962].mean().mean()
    with pytest.raises(ValueError, match="states not in"):
        epidemics.tycho_incidence("Measles", states=["Atlantis"])
    with pytest.raises(ValueError, match="min_weeks"):
        epidemics.tycho_incidence("Measles", min_weeks=0)


def test_state_table_and_great_circle_distances():
    states = epidemics.state_table()
    assert len(states) == 50 and states["contiguous"].sum() == 48
    ny = states.set_index("abbreviation").loc["NY"]
    assert ny["name"] == "New York" and ny["population_1975"] == 18_076_000
    # New York to California centres: about 3,900 km
    idx = states.set_index("abbreviation").loc[["NY", "CA"]]
    km = epidemics.great_circle_km(idx["longitude"], idx["latitude"])
    assert km[0, 1] == pytest.approx(3900, rel=0.06) and km[0, 0] == 0
    with pytest.raises(ValueError, match="1-D of equal length"):
        epidemics.great_circle_km([1, 2], [1])


def test_historical_series():
    cholera = epidemics.cholera_1849_daily()
    assert len(cholera) == 365 and cholera.index[0].year == 1849
    assert cholera.idxmax().month in (8, 9)  # the late-summer peak Farr charted
    assert cholera.sum() > 40_000
    with pytest.raises(ValueError, match="cause"):
        epidemics.cholera_1849_daily("Typhus")
    districts = epidemics.cholera_1849_districts()
    assert len(districts) == 38 and (districts["cholera_deaths"] > 0).all()
    measles = epidemics.london_measles()
    assert measles.index[0] == 1629 and measles.index[-1] == 1939 and measles.isna().any()


def _toy_places():
    populations = np.array([1e6, 2e6, 5e5, 1.5e6])
    longitude = np.array([-80.0, -90.0, -100.0, -85.0])
    latitude = np.array([35.0, 40.0, 38.0, 30.0])
    return populations, longitude, latitude


def test_gravity_mobility_follows_the_gravity_law():
    populations, longitude, latitude = _toy_places()
    travel = epidemics.gravity_mobility(populations, longitude, latitude, travel_fraction=0.01)
    assert np.allclose(np.diag(travel), 0) and (travel >= 0).all()
    assert (travel.sum(1) * populations).sum() / populations.sum() == pytest.approx(0.01)
    distance = epidemics.great_circle_km(longitude, latitude)
    flow = travel * populations[:, None]
    gravity = np.outer(populations, populations) / np.where(distance > 0, distance, 1) ** 2
    ratio = flow[~np.eye(4, dtype=bool)] / gravity[~np.eye(4, dtype=bool)]
    assert np.allclose(ratio, ratio[0])  # one constant for every pair
    assert np.allclose(flow, flow.T)  # gravity flows are symmetric
    with pytest.raises(ValueError, match="positive"):
        epidemics.gravity_mobility([1, -1, 2, 3], longitude, latitude)
    with pytest.raises(ValueError, match="travel_fraction"):
        epidemics.gravity_mobility(populations, longitude, latitude, travel_fraction=0.9)
    with pytest.raises(ValueError, match="one per place"):
        epidemics.gravity_mobility(populations[:3], longitude, latitude)


def test_knn_adjacency_is_symmetric_with_at_least_k_neighbours():
    _, longitude, latitude = _toy_places()
    adjacency = epidemics.knn_adjacency(longitude, latitude, k=2)
    assert np.array_equal(adjacency, adjacency.T) and np.all(np.diag(adjacency) == 0)
    assert (adjacency.sum(1) >= 2).all()
    with pytest.raises(ValueError, match="k must be"):
        epidemics.knn_adjacency(longitude, latitude, k=4)


def test_single_population_seir_reaches_the_final_size_equation():
    beta, gamma = 0.6, 0.25
    outbreak = epidemics.simulate_metapopulation_seir(
        beta, 1 / 3, gamma, [1e6], np.zeros((1, 1)), [10.0], days=400
    )
    attack = outbreak.recovered[-1, 0] / 1e6
    r0 = beta / gamma
    expected = brentq(lambda z: z - (1 - np.exp(-r0 * z)), 1e-6, 1)
    assert attack == pytest.approx(expected, abs=2e-3)
    total = outbreak.susceptible + outbreak.exposed + outbreak.infectious + outbreak.recovered
    assert np.allclose(total, 1e6)
    # every infection shows up as an onset, except those still exposed (and the 10 seeds)
    assert outbreak.incidence.sum() == pytest.approx(
        1e6 - outbreak.susceptible[-1, 0] - outbreak.exposed[-1, 0] - 10, rel=1e-6
    )


def test_metapopulation_spread_and_stochastic_chain():
    populations, longitude, latitude = _toy_places()
    travel = epidemics.gravity_mobility(populations, longitude, latitude, travel_fraction=0.01)
    seeded = np.array([100.0, 0, 0, 0])
    deterministic = epidemics.simulate_metapopulation_seir(
        0.5, 1 / 3, 0.25, populations, travel, seeded, days=300
    )
    assert (deterministic.recovered[-1] / populations > 0.7).all()  # it reached every place
    arrival = (deterministic.infectious > 1).argmax(0)
    assert arrival[0] == 0 and (arrival[1:] > 0).all()
    isolated = epidemics.simulate_metapopulation_seir(
        0.5, 1 / 3, 0.25, populations, np.zeros((4, 4)), seeded, days=300
    )
    assert np.allclose(isolated.recovered[-1, 1:], 0)
    runs = [
        epidemics.simulate_metapopulation_seir(
            0.5, 1 / 3, 0.25, populations, travel, seeded, days=300, stochastic=True, seed=s
        )
        for s in range(3)
    ]
    for run in runs:
        assert np.all(run.susceptible == np.round(run.susceptible))
        assert np.allclose(
            run.susceptible + run.exposed + run.infectious + run.recovered, populations
        )
        assert np.allclose(
            run.recovered[-1] / populations, deterministic.recovered[-1] / populations, atol=0.03
        )
    assert not np.array_equal(runs[0].incidence, runs[1].incidence)
    again = epidemics.simulate_metapopulation_seir(
        0.5, 1 / 3, 0.25, populations, travel, seeded, days=300, stochastic=True, seed=0
    )
    assert np.array_equal(again.incidence, runs[0].incidence)


def test_simulator_rejects_bad_inputs():
    with pytest.raises(ValueError, match="positive"):
        epidemics.simulate_metapopulation_seir(0, 1, 1, [10], np.zeros((1, 1)), [1], 5)
    with pytest.raises(ValueError, match="same number of places"):
        epidemics.simulate_metapopulation_seir(1, 1, 1, [10, 10], np.zeros((1, 1)), [1, 1], 5)
    with pytest.raises(ValueError, match="rows summing"):
        epidemics.mixing_matrix(np.array([[0, 1.2], [0.1, 0]]))
    with pytest.raises(ValueError, match="between 0 and the population"):
        epidemics.simulate_metapopulation_seir(1, 1, 1, [10], np.zeros((1, 1)), [11], 5)


def test_read_ilinet_csv_in_the_fluview_format(tmp_path):
    path = tmp_path / "ILINet.csv"
    path.write_text(
        "PERCENTAGE OF VISITS FOR INFLUENZA-LIKE-ILLNESS REPORTED BY SENTINEL PROVIDERS\n"
        "REGION TYPE,REGION,YEAR,WEEK,% WEIGHTED ILI,%UNWEIGHTED ILI,AGE 0-4,AGE 25-49,"
        "AGE 25-64,AGE 5-24,AGE 50-64,AGE 65,ILITOTAL,NUM. OF PROVIDERS,TOTAL PATIENTS\n"
        "National,X,2010,41,1.2,1.1,X,X,X,X,X,X,1500,1800,130000\n"
        "National,X,2010,40,1.1,1.0,X,X,X,X,X,X,1400,1800,128000\n"
        "National,X,2010,42,X,1.3,X,X,X,X,X,X,1600,1800,X\n"
    )
    table = epidemics.read_ilinet(path)
    assert list(table["week"]) == [40, 41, 42]
    assert table["weighted_ili"].tolist()[:2] == [1.1, 1.2] and np.isnan(table["weighted_ili"][2])
    assert table["ili_total"].tolist() == [1400, 1500, 1600]


def test_read_ilinet_delphi_json_and_bad_files(tmp_path):
    path = tmp_path / "fluview.json"
    rows = [
        {"region": "nat", "epiweek": 201053, "wili": 3.5, "num_ili": 9, "num_patients": 300},
        {"region": "nat", "epiweek": 201101, "wili": 3.9, "num_ili": 11, "num_patients": 290},
    ]
    path.write_text(json.dumps({"result": 1, "message": "success", "epidata": rows}))
    table = epidemics.read_ilinet(path)
    assert table[["year", "week"]].values.tolist() == [[2010, 53], [2011, 1]]
    assert table["weighted_ili"].tolist() == [3.5, 3.9]
    path.write_text(json.dumps({"result": -2, "message": "no results"}))
    with pytest.raises(ValueError, match="no results"):
        epidemics.read_ilinet(path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="REGION header"):
        epidemics.read_ilinet(other)
    with pytest.raises(FileNotFoundError, match="download_ilinet"):
        epidemics.read_ilinet(tmp_path / "missing.csv")


def test_download_ilinet_offline_says_how_to_get_the_file(tmp_path, monkeypatch):
    from bios740 import download as download_module

    def refuse(url, destination, **kwargs):
        raise download_module.DataUnavailableError("network unreachable")

    monkeypatch.setattr(download_module, "download", refuse)
    with pytest.raises(download_module.DataUnavailableError, match="FluView"):
        epidemics.download_ilinet(destination=tmp_path / "x.json")
    with pytest.raises(ValueError, match="YYYYWW"):
        epidemics.download_ilinet(first_epiweek=2010)

    def serve(url, destination, **kwargs):
        assert "epiweeks=201040-201042" in url
        rows = [{"region": "nat", "epiweek": 201040, "wili": 1.0, "num_ili": 1, "num_patients": 9}]
        destination.write_text(json.dumps({"result": 1, "message": "success", "epidata": rows}))
        return destination

    monkeypatch.setattr(download_module, "download", serve)
    table = epidemics.download_ilinet(
        first_epiweek=201040, last_epiweek=201042, destination=tmp_path / "y.json"
    )
    assert table["weighted_ili"].tolist() == [1.0]
