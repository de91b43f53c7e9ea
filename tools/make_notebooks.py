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
    code(SETUP + "\nimport matplotlib.pyplot as plt\nc = views.prepare_case(case, overrides, variant, scenario)\n"
         "res = views.results(c)\ntornado_table, tornado_fig = views.tornado(c, lang)\n"
         "prob, prob_fig = views.probabilistic_view(c, n_draws, seed, lang)\nplt.close(prob_fig)\n"
         "display(views.title_page(c, lang))"),
    code("display(views.answer(c, res, lang, prob=prob, tornado_table=tornado_table, scenario=scenario))\n"
         "warn = views.model_warnings(c, lang)\nif warn is not None:\n    display(warn)"),
    code("display(views.heading('headline', lang))\ndisplay(views.both_perspectives_table(c, res, lang))\n"
         "display(Markdown(views.headline_note(c, lang, scenario)))\n"
         "display(views.heading('more_figures', lang, level=3, persp=views.text('perspective_word_' + c.perspective, lang)))\n"
         "display(views.headline_table(c, res, lang))"),
    code("if c.published and not overrides and not variant and not scenario:\n"
         "    display(views.heading('published', lang))\n    pub = views.published_table(c, lang)\n    display(pub)\n"
         "    display(Markdown(views.footnotes_markdown(pub.attrs['footnotes'], lang)))"),
    code("if c.variants and not overrides and not variant and not scenario:\n"
         "    display(views.heading('variants', lang))\n    display(views.variants_table(c, lang))\n"
         "if c.value('secondment.share') > 0 and any(p.metric == 'secondment_break_even_month' for p in c.published):\n"
         "    display(views.heading('family', lang, level=3))\n    family, note, family_table = views.family_view(c, lang)\n"
         "    display(Markdown(note))\n    display(family_table)"),
    code("display(views.heading('cashflows', lang))\nviews.cumulative_cash_figure(c, res, lang);\n"
         "display(views.per_year_table(res, lang))\ndisplay(views.table_context(c, lang))"),
    code("views.caseload_figure(c, res, lang);"),
    code("display(views.heading('per_actor', lang))\ndisplay(views.per_actor_table(res, lang))\n"
         "display(views.table_context(c, lang, perspective=False))"),
    code("display(views.figure_section('sensitivity', tornado_fig, lang))"),
    code("display(views.heading('scenarios', lang))\nscen_table, scen, replay, _ = views.scenarios_view(c, lang)\n"
         "display(scen_table)"),
    code("display(views.heading('probabilistic', lang))\ndisplay(prob_fig)\n"
         "display(Markdown(views.probabilistic_note(c, res, prob, lang)))\n"
         "display(prob.chances)\ndisplay(prob.table)"),
    code("display(views.heading('assumptions_sources', lang))\nassumptions = views.assumptions_table(c, lang)\n"
         "display(assumptions)\ndisplay(Markdown(views.footnotes_markdown(assumptions.attrs['footnotes'], lang)))\n"
         "if c.readings:\n    display(views.heading('readings', lang, level=3))\n"
         "    display(Markdown(views.readings_markdown(c, lang)))\n"
         "display(Markdown(views.sources_markdown(lang)))"),
    code("npv_by_scenario = dict(zip('npv_' + scen['scenario'], scen['npv_eur']))\n"
         "both = views.perspective_figures(c, res)\n"
         "emit_key_figures(views.key_figures(c, res, p_npv_positive=prob.p_positive, **npv_by_scenario,\n"
         "    societal_npv_eur=both['society']['npv_eur'], societal_net_result_eur=both['society']['net_result_eur'],\n"
         "    societal_bcr=both['society']['bcr'], municipal_npv_eur=both['municipality']['npv_eur']))"),
])

write("compare_cases.ipynb", [
    params('# All published cases side by side, on a common footing: five years at 2,25 %.\nlang = "nl"'),
    code(SETUP + "\ndisplay(views.compare_title_page(lang))\n"
         "display(views.heading('answer', lang))\ndisplay(Markdown(views.compare_answer(lang)))"),
    code("display(views.heading('key_figures', lang))\ntables = views.compare_view(lang)\n"
         "for persp, table in tables.items():\n"
         "    if persp:\n        display(views.heading({'municipality': 'muni_col', 'society': 'soc_col'}[persp], lang, level=3))\n"
         "    display(table)"),
    code("display(views.heading('unit_value', lang))\nunit = views.unit_value_view(lang)\ndisplay(unit)\n"
         "display(Markdown(views.footnotes_markdown(unit.attrs['footnotes'], lang)))"),
    code("emit_key_figures({'cases': int(next(iter(tables.values())).shape[1])})"),
])

write("sensitivity.ipynb", [
    params('# Sensitivity of a case: two-way grids, historical replay and Sobol indices.\ncase = "app_zaanstad"\nlang = "nl"\ngrid_points = 21\nsobol_n = 256\nseed = 20191'),
    code(SETUP + "\nc = views.prepare_case(case)\ndisplay(views.heading('title_case', lang, level=1, title=views.case_title(c, lang)))"),
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
    code("display(views.heading('sobol', lang))\nsob = views.sobol_view(c, sobol_n, seed, lang)\ndisplay(sob)\n"
         "display(Markdown(sob.attrs['note']))"),
    code("emit_key_figures({'case': c.name, 'sobol_n': sobol_n})"),
])

write("local_case.ipynb", [
    params('# A local business case: copy a documented case, change what differs locally.\n'
           '# Opened in JupyterLab it shows sliders for the main assumptions and recomputes the whole view\n'
           '# (headline, table, chart, assumptions) on every change; rendered by `mkba render` it is static.\n'
           'case = "app_zaanstad"\nlang = "nl"\nparticipants = 80          # persons\n'
           'benefit_cost_per_year = 14000  # euro per person-year\n'
           'work_exit_added = 0.10        # +10 percentage points a year, as a fraction\n'
           'staff_fte = 1.6\ncost_per_fte_year = 56250\ninteractive = True'),
    code(SETUP + "\nlocal = {'cohort.initial_participants': participants, 'benefit.cost_per_year': benefit_cost_per_year,\n"
         "         'effect.work_exit_added': work_exit_added, 'programme.staff_fte': staff_fte,\n"
         "         'programme.cost_per_fte_year': cost_per_fte_year}\n"
         "view = views.LocalCaseView(case, local, lang)\n"
         "if interactive and views.in_live_kernel():\n    display(view.widget())\nelse:\n    view.static()"),
    code("c = view.case_for(local)\nemit_key_figures(views.key_figures(c, views.results(c)))"),
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
    # one cell for the results: every cell is a round trip between papermill and the kernel
    # (342 reports per batch); the figure is shown where it belongs, not at the end of the cell
    code("if c is not None:\n    import matplotlib.pyplot as plt\n    res = views.results(c)\n"
         "    display(views.heading('local_result', lang))\n"
         "    display(views.headline_table(c, res, lang))\n"
         "    display(Markdown(views.figures_note(c, lang, scenario)))\n"
         "    fig = views.report_cash_figure(c, res, lang)\n    display(fig)\n    plt.close(fig)\n\n"
         "    display(views.heading('scenarios', lang))\n"
         "    scen_raw, scen_table = views.municipal_scenarios(approach, facts['gm_code'], share_reached, lang, scenario)\n"
         "    display(scen_table)\n    display(Markdown(scen_table.attrs['note']))\n\n"
         "    display(views.heading('probabilistic', lang))\n"
         "    prob, _ = views.probabilistic_view(c, n_draws, seed, lang, figure=False)\n    display(prob.chances)\n"
         "    display(Markdown(views.probabilistic_note(c, res, prob, lang, scenario)))\n\n"
         "    display(views.heading('peers', lang))\n"
         "    peers, sentence, peer_table = views.peers_view(approach, facts['gm_code'], share_reached, lang,\n"
         "                                                   scenario=scenario)\n"
         "    display(Markdown(sentence))\n    display(peer_table)\n\n"
         "    display(views.heading('assumptions_sources', lang))\n    display(views.assumptions_table(c, lang))\n\n"
         "    npv_by_scenario = dict(zip('npv_' + scen_raw['scenario'], scen_raw['npv_eur']))\n"
         "    emit_key_figures(views.key_figures(c, res, gm_code=facts['gm_code'], municipality=facts['name'],\n"
         "        province=facts.get('province'), size_class=facts.get('size_class'), participants=facts['participants'],\n"
         "        p_npv_positive=prob.p_positive, peer_rank=peers.attrs['rank'], **npv_by_scenario))"),
])
print("written to", HERE)
