"""The sources the rules cite, as a runner reads them: article titles and studies.

The runner-facing articles behind the rules (`seeds/` in the design documents) are named by
their titles, never by an internal number.
"""

from __future__ import annotations

LEGS_ACHING = '"Legs Aching After Running: Causes, When to Worry"'
LEGS_HURT = '"5 Practical Ways to Solve Legs Hurt After Running"'
SORE_LEGS = '"Sore Legs After Running? 10 Ways to Prevent and Treat It" (Marnie Kunz, run coach)'
RUN_WITH_SORE_LEGS = '"Should You Go Running With Sore Legs?"'
POST_RUN_ACHES = '"Post-Run Aches: What Usually Hurts After Running & Why"'

NIELSEN_2014 = "Nielsen et al., JOSPT 2014;44:739"
BUIST_2008 = "Buist et al., AJSM 2008;36:33"
FRANDSEN_2025 = "Frandsen et al., BJSM 2025;59:1203, doi:10.1136/bjsports-2024-109380"
GABBETT_2016 = "Gabbett, BJSM 2016;50:273"
WILLIAMS_2017 = "Williams et al., BJSM 2017;51:209"
IMPELLIZZERI_2021 = "Impellizzeri et al., Sports Med 2021;51:581"
WATSON_2015 = "Watson et al., J Clin Sleep Med 2015;11:591"
TAKAYAMA_2017 = "Takayama et al., J Sports Med 2017:9402386 (PMC5613699)"
BERNAT_ADELL_2021 = "Bernat-Adell et al., J Strength Cond Res 2021;35:626"


def cite(*sources: str) -> str:
    """One citation line from several sources."""
    return "; ".join(sources)
