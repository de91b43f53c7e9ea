"""Write the report notebooks (stored without outputs). Run: python tools/make_notebooks.py

The notebooks are thin views over mkba.views; this script keeps their cells in one place.
"""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

HERE = Path(__file__).resolve().parents[1] / "notebooks"
HIDE = {"jupyter": {"source_hidden": True}}

SETUP = """from IPython.display import display, Markdown
from mkba import views
from mkba.reporting import emit_key_figures
views.setup(lang)"""


def params(src: str):
    return new_code_cell(src, metadata={"tags": ["parameters"]})


def code(src: str):
    return new_code_cell(src, metadata=HIDE)


def write(name: str, cells: list) -> None:
    for i, cell in enumerate(cells):          # stable ids: regenerating changes nothing unless content does
        cell["id"] = f"{name.split('.')[0]}-{i}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.write(nb, HERE / name)


write("business_case.ipynb", [
    params('# mkba business case: a thin view over mkba; change these values and re-run.\n'
           'case = "fip_sittard_geleen"   # a case in data/cases/ (mkba cases)\n'
           'overrides = {}                # e.g. {"benefit.cost_per_year": 15000}\n'
           'variant = ""                  # a named variant of the case, or ""\n'
           'scenario = ""                 # "", "hoogconjunctuur", "gemiddeld" or "laagconjunctuur"\n'
           'lang = "nl"                   # "nl" or "en"\n'
           'n_draws = 5000                # probabilistic draws\n'
           'seed = 20191'),
    code(SETUP + "\nc = views.prepare_case(case, overrides, variant, scenario)\nres = views.results(c)\n"
         "display(views.heading('title_case', lang, level=1, title=c.title))\ndisplay(views.case_text(views.summary(c, lang)))"),
    code("display(views.heading('headline', lang))\ndisplay(views.headline_table(c, res, lang))"),
    code("if c.published and not overrides and not variant and not scenario:\n"
         "    display(views.heading('published', lang))\n    display(views.published_table(c, lang))"),
    code("if c.variants and not overrides and not variant and not scenario:\n"
         "    display(views.heading('variants', lang))\n    display(views.variants_table(c, lang))\n"
         "if c.value('secondment.share') > 0 and any(p.metric == 'secondment_break_even_month' for p in c.published):\n"
         "    display(views.heading('family', lang, level=3))\n    family, note, family_table = views.family_view(c, lang)\n"
         "    display(Markdown(note))\n    display(family_table)"),
    code("display(views.heading('cashflows', lang))\nviews.cumulative_cash_figure(c, res, lang);\n"
         "display(views.per_year_table(res, lang))"),
    code("views.caseload_figure(c, res, lang);"),
    code("display(views.heading('per_actor', lang))\ndisplay(views.per_actor_table(res, lang))"),
    code("display(views.heading('sensitivity', lang))\ntornado_table, fig = views.tornado(c, lang)\ndisplay(fig)"),
    code("display(views.heading('scenarios', lang))\nscen_table, scen, replay, _ = views.scenarios_view(c, lang)\n"
         "display(scen_table)"),
    code("display(views.heading('probabilistic', lang))\nprob, _ = views.probabilistic_view(c, n_draws, seed, lang)\n"
         "display(prob.chances)\ndisplay(prob.table)"),
    code("display(views.heading('assumptions_sources', lang))\ndisplay(views.assumptions_table(c, lang))\n"
         "if c.readings:\n    display(views.heading('readings', lang, level=3))\n"
         "    display(views.readings_table(c, lang))"),
    code("npv_by_scenario = dict(zip('npv_' + scen['scenario'], scen['npv_eur']))\n"
         "emit_key_figures(views.key_figures(c, res, p_npv_positive=prob.p_positive, **npv_by_scenario))"),
])

write("compare_cases.ipynb", [
    params('# All published cases side by side, on a common footing: five years at 2,25 %.\nlang = "nl"'),
    code(SETUP + "\ndisplay(views.heading('compare', lang, level=1))\ntable = views.compare_view(lang)\ndisplay(table)"),
    code("display(views.heading('unit_value', lang))\ndisplay(views.unit_value_view(lang))"),
    code("emit_key_figures({'cases': int(len(table))})"),
])

write("sensitivity.ipynb", [
    params('# Sensitivity of a case: two-way grids, historical replay and Sobol indices.\ncase = "app_zaanstad"\nlang = "nl"\ngrid_points = 21\nsobol_n = 256\nseed = 20191'),
    code(SETUP + "\nc = views.prepare_case(case)\ndisplay(views.heading('title_case', lang, level=1, title=c.title))"),
    code("display(views.heading('tornado', lang))\nfor metric in ('npv_eur', 'net_result_eur', 'break_even_month'):\n"
         "    display(views.tornado(c, lang, metric)[1])"),
    code("display(views.heading('two_way', lang))\nfor fig in views.two_way_figures(c, grid_points, lang):\n    display(fig)"),
    code("display(views.heading('scenarios', lang))\ncaption, scen_table, scen = views.cycle_scenario_view(c, lang)\n"
         "display(caption)\ndisplay(scen_table)"),
    code("caption, channel_table, _ = views.cycle_channel_view(c, lang)\n"
         "display(views.cycle_heading('channels_heading', lang))\n"
         "display(caption)\ndisplay(channel_table)"),
    code("display(views.heading('replay', lang))\ncaption, replay_table, replay, fig = views.replay_view(c, lang)\n"
         "display(caption)\ndisplay(fig)\ndisplay(replay_table)"),
    code("display(views.heading('acceptability', lang))\ncurve, fig = views.acceptability_view(c, 1000, seed, lang)\ndisplay(fig)"),
    code("display(views.heading('sobol', lang))\nsob = views.sobol_view(c, sobol_n, seed, lang)\ndisplay(sob)"),
    code("emit_key_figures({'case': c.name, 'sobol_n': sobol_n})"),
])

write("local_case.ipynb", [
    params('# A local business case: copy a documented case, change what differs locally.\n'
           '# Opened in JupyterLab it shows sliders for the main assumptions; rendered by `mkba render` it is static.\n'
           'case = "app_zaanstad"\nlang = "nl"\nparticipants = 80\nbenefit_cost_per_year = 14000\n'
           'work_exit_added = 0.10\nstaff_fte = 1.6\ncost_per_fte_year = 56250\ninteractive = True'),
    code(SETUP + "\nlocal = {'cohort.initial_participants': participants, 'benefit.cost_per_year': benefit_cost_per_year,\n"
         "         'effect.work_exit_added': work_exit_added, 'programme.staff_fte': staff_fte,\n"
         "         'programme.cost_per_fte_year': cost_per_fte_year}\n"
         "c = views.prepare_case(case, local)\nres = views.results(c)\n"
         "display(views.heading('title_case', lang, level=1, title=c.title))\n"
         "display(views.headline_table(c, res, lang))\nviews.cumulative_cash_figure(c, res, lang);"),
    code("if interactive and views.in_live_kernel():\n    display(views.sliders(case, local, lang))"),
    code("display(views.heading('assumptions_sources', lang))\ndisplay(views.assumptions_table(c, lang))\n"
         "emit_key_figures(views.key_figures(c, res))"),
])
write("municipality.ipynb", [
    params('# What an approach would do in one municipality, from CBS data (mkba.local).\n'
           'gm_code = "GM1883"            # CBS municipality code (or a name)\n'
           'approach = "fip_sittard_geleen"  # the case to apply locally\n'
           'share_reached = 0.10          # share of the algemene bijstand caseload reached\n'
           'scenario = ""                 # "", "hoogconjunctuur", "gemiddeld" or "laagconjunctuur"\n'
           'lang = "nl"\nn_draws = 2000\nseed = 20191'),
    code(SETUP.replace("views.setup(lang)", "views.setup_municipal(lang)")
         + "\nc, facts = views.municipality_case(gm_code, approach, share_reached, scenario)\n"
         "display(views.heading('title_municipality', lang, level=1, approach=views.load_case(approach).title, name=facts['name']))\n"
         "display(views.heading('local_facts', lang))\ndisplay(views.local_facts_table(facts, lang))\n"
         "display(views.heading('data_notes', lang, level=3))\ndisplay(views.case_text(views.data_notes(facts, lang)))\n"
         "if c is None:\n    display(Markdown(views.text('no_caseload', lang)))\n"
         "    emit_key_figures({'gm_code': facts.get('gm_code'), 'municipality': facts['name'], 'province': facts.get('province'),\n"
         "                      'size_class': facts.get('size_class'), 'status': 'no caseload data'})"),
    code("if c is not None:\n    res = views.results(c)\n    display(views.heading('local_result', lang))\n"
         "    display(views.headline_table(c, res, lang))\n    views.cumulative_cash_figure(c, res, lang)"),
    code("if c is not None:\n    display(views.heading('scenarios', lang))\n"
         "    scen_raw, scen_table = views.municipal_scenarios(approach, facts['gm_code'], share_reached, lang)\n"
         "    display(scen_table)"),
    code("if c is not None:\n    display(views.heading('probabilistic', lang))\n"
         "    prob, _ = views.probabilistic_view(c, n_draws, seed, lang, figure=False)\n    display(prob.chances)"),
    code("if c is not None:\n    display(views.heading('peers', lang))\n"
         "    peers, sentence, peer_table = views.peers_view(approach, facts['gm_code'], share_reached, lang)\n"
         "    display(Markdown(sentence))\n    display(peer_table)"),
    code("if c is not None:\n    display(views.heading('assumptions_sources', lang))\n    display(views.assumptions_table(c, lang))"),
    code("if c is not None:\n    npv_by_scenario = dict(zip('npv_' + scen_raw['scenario'], scen_raw['npv_eur']))\n"
         "    emit_key_figures(views.key_figures(c, res, gm_code=facts['gm_code'], municipality=facts['name'],\n"
         "        province=facts.get('province'), size_class=facts.get('size_class'), participants=facts['participants'],\n"
         "        p_npv_positive=prob.p_positive, peer_rank=peers.attrs['rank'], **npv_by_scenario))"),
])
print("written to", HERE)
