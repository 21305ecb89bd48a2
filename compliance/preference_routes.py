"""Whether a trade preference reaches a parcel: the goods must leave from a party's stock.

A preferential rate is for originating goods shipped to the importing party
from a party, or through a non-party only while they stay under its customs
control (CPTPP art. 3.18, the EU's non-alteration rules, GSP's direct
transport). Stock a merchant keeps in a country outside the agreement has
cleared that country's customs: a parcel from it pays the importing
territory's MFN rate, and a certificate of origin saves nothing. So
Vietnamese-made goods stocked in New Jersey pay Canada's MFN rate, CPTPP or
not, while the same goods stocked in Japan (a party) keep it. The parties
are the agreement's qualifying origins in the duty rates
(intermediate.int_sku_duty_rates.preferential_parties). A bulk import into
the node's own territory is not judged here: it comes from the origin.
"""
from __future__ import annotations

import pandas as pd

PREFERENCE_COLUMNS: tuple[str, ...] = ("preferential_agreement", "preferential_rate")


def reaches(parties: object, ship_from_country: object) -> bool:
    """True when the goods ship from one of the agreement's `parties` (a space-separated list of ISO codes)."""
    if not isinstance(parties, str) or not isinstance(ship_from_country, str):
        return False
    return ship_from_country.strip().upper() in parties.split()


def on_parcel_routes(frame: pd.DataFrame, ship_from_country: str = "node_country",
                     ship_from_territory: str = "node_territory", destination: str = "customs_territory") -> pd.DataFrame:
    """`frame` with the preference (agreement and rate) taken off the parcels that ship from outside the agreement.

    A row is a parcel when its node's customs territory is not the destination's (or either is unknown); its
    preference stays only when the node's country is among `preferential_parties`.
    """
    parcel = (frame[ship_from_territory].isna() | frame[destination].isna()
              | (frame[ship_from_territory] != frame[destination]))
    lost = (parcel & frame["preferential_agreement"].notna()).to_numpy()
    judged = frame[lost]  # most order lines have no preference to judge: only these are read row by row
    lost[lost] = [not reaches(p, c) for p, c in zip(judged["preferential_parties"], judged[ship_from_country])]
    if not lost.any():
        return frame
    out = frame.copy()
    out.loc[lost, list(PREFERENCE_COLUMNS)] = None
    return out
