"""The default understander: intent classifier + procedure index + aspect cues + entities.

Decision order, for one message:
1. a folio means a status question;
2. intents about the conversation itself (a person, my data, status, rating) when the
   classifier is sure of them;
3. a procedure known to be handled by someone else (passport, INE, RFC...) is out of scope,
   unless the catalogue matches strongly;
4. a catalogue procedure matched well enough: a report to open (when the procedure takes
   requests and the message reads as a report) or a question, with its aspect;
5. a follow-up aspect ("¿y cuánto cuesta?") about the procedure just discussed;
6. small talk; a report with no procedure yet; near misses offered as candidates;
7. otherwise out of scope.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from foundation.db import utcnow
from nlu import entities as entity_patterns
from nlu import frequency
from nlu.aspect_classifier import AspectClassifier
from nlu.aspects import aspects_asked, clauses, cue_phrases, find_aspect
from nlu.dates import find_date
from nlu.intents import IntentClassifier
from nlu.lexicon import Lexicon
from nlu.normalize import normalize
from nlu.procedures import ProcedureIndex, stem
from nlu.risk import AnswerRisk, Signs
from nlu.risk import load as load_risk
from nlu.topics import PERMITS, Topics
from nlu.training import TrainingData
from nlu.understanding import Candidate, Context, ProcedureEntry, Understanding

CONVERSATION_INTENTS = ("human_agent", "my_data", "request_status", "rate_service")
SMALL_TALK = ("greet", "goodbye", "thanks", "help", "affirm", "deny")
EXTERNAL = "external_procedure"
EVENT = frozenset(  # a birth or death just happened, or registering it is asked
    """nacio nacieron nacido nacida fallecio fallecieron fallecido fallecida murio murieron
    muerto muerta difunto recien registrar registrarlo registrarla registrarlos asentar
    asentarlo asentarla levantar levantamos levanta levantan bebe presentar""".split()
)
REGISTRY_REACH = 3  # how far down the matches the other kind of registry entry may be
GETTING_A_COPY = frozenset("copia copias sacar saco saque actualizada certificada".split())
OPINION = "opinion"  # insults and judgements of the government (a lookup of nlu.yml)
QUESTIONS = frozenset(
    "q k que cuanto cuanta cuantos cuantas donde como cuando cual cuales quien quienes"
    " how what where when which who".split()
)
REPORTING = frozenset("reportar reporto reporte reportarlo reportarla reporten queja".split())
NEGATION = frozenset("no sin nunca ni".split())  # "no tengo INE": what they lack, not ask for
PURPOSE = frozenset("para pa pal con".split())  # "me la piden pa la visa": what it is for
SEIZED = frozenset("quitaron quito recogieron recogio retuvieron".split())  # a licence or plate
# the municipal police holds as a guarantee: getting it back is the municipality's business
OWNER = frozenset("del de".split())  # "la multa del SAT": the other agency's own paper,
HELD = frozenset({"curp"})  # other agencies' data the bot itself keeps: "borren mi curp"
ARTICLES = frozenset("el la los las un una unos unas".split())
OWN = ARTICLES | frozenset("mi mis su sus tu tus".split())
COPY = frozenset("copia copias fotocopia original".split())  # unless a copy of it is
# what a catalogue procedure asks for ("la constancia de residencia, copia de la INE?")
ASKER = frozenset(
    "pide piden pidio pidieron dice dijo solicita exige quiere quieren requiere requieren".split()
)  # "el notario
# me pide un papel de no adeudo": the other agency is who wants the municipal paper
UNSURE = 0.5  # the confidence of an answer that the catalogue lacks what was asked, while
# its candidates come close: the dialogue may offer them
REPORT_SURE = 0.8  # a report this likely that only seems to ask where is a report ...
INSIDE = 4  # ... when its "donde" comes after this many words
ASK_SURE = 0.8  # a problem described for a procedure that takes reports opens one, unless
# the message reads this clearly as a question


@dataclass(frozen=True)
class Thresholds:
    procedure: float = 0.42  # a procedure is recognised from this score
    candidate: float = 0.25  # below `procedure`, from this score it is offered as a choice
    strong: float = 0.8  # a procedure match this good outweighs a confident small-talk intent
    intent: float = 0.5  # conversation intents (a person, my data...) need this probability
    sure: float = 0.75  # small talk and chit-chat this likely are taken as they are
    lead: float = 0.3  # below `procedure`, a match this good and this far ahead is taken
    margin: float = 0.05  # the bot offers choices below this lead (nlu_ambiguity_margin)
    explain: float = 0.5  # below this, a match must explain ...
    explained: float = 0.25  # ... this share of what the message says, or be confirmed
    distinctive: float = 0.35  # a match whose titles' weight the message says less of than
    # this is confirmed when the message's rarest word is one the catalogue never uses


class DefaultUnderstander:
    def __init__(
        self,
        procedures: Sequence[ProcedureEntry],
        data: TrainingData,
        thresholds: Thresholds | None = None,
        embeddings: bool = False,
        calibrated: bool = True,
    ) -> None:
        """`embeddings` adds sentence-embedding similarity to procedure matching (the
        optional extra "embeddings"; slower, see nlu/embeddings.py). Without `calibrated`,
        answers are not weighed by the answer-risk model (nlu/risk.py): what fitting it
        needs."""
        self.thresholds = thresholds or Thresholds()
        self.risk: AnswerRisk | None = load_risk() if calibrated else None
        frequency.load()  # now, so that no message waits for the word lists
        self.lexicon = Lexicon(data)
        self.procedures = {p.id: p for p in procedures}
        self.procedure_lexicon = Lexicon(data, stem)
        semantic = None
        if embeddings:
            from nlu.embeddings import ProcedureEmbeddings

            semantic = ProcedureEmbeddings(procedures).bonus
        self.index = ProcedureIndex(procedures, self.procedure_lexicon, cue_phrases(), semantic)
        self.topics = Topics(self.index, procedures)
        self.intents = IntentClassifier(data, procedures, self.lexicon)
        # the civil registry's two kinds of entry about the same acts: copies of an act
        # already made, and registering a birth or death (making the act)
        self._copies = {
            p.id
            for p in procedures
            if any({"copia", "copias"} & set(normalize(t).split()) for t in (p.name, *p.synonyms))
        }
        self._registers = {
            p.id
            for p in procedures
            if normalize(p.name).split()[:1] in (["registro"], ["asentamiento"])
        }
        self.aspects = AspectClassifier(data, self.intents.prepare)

    def understand(self, text: str, context: Context) -> Understanding:
        t = self.thresholds
        found = entity_patterns.extract(text)
        when = find_date(text, _today())
        if when:
            found["date"] = when.isoformat()
        words = self.intents.prepare(text)
        if "folio" in found:
            return Understanding("request_status", None, None, 1.0, found)
        ranking = self.intents.ranking(words)
        intent, p = ranking[0]
        external = self.procedure_lexicon.lookup(EXTERNAL, text)
        # "renovar mi pasaporte que ya se vencio" is about the passport, not a request;
        # "como retiro mi afore" is about the AFORE's records, not the data the bot holds
        about_other = bool(external) and (
            intent == "request_status" or (intent == "my_data" and external not in HELD)
        )
        if intent in CONVERSATION_INTENTS and p >= t.intent and not about_other:
            return Understanding(intent, None, None, p, found)

        candidates = tuple(self.index.search(text))
        if self._opinion(text) and not (intent == "open_request" and p >= REPORT_SURE):
            # "el predial carisimo son unos rateros": nothing asked; a sure report with a
            # complaint ("hay un bache enorme y no hacen nada") is still a report
            return Understanding("out_of_scope", None, None, UNSURE, found, candidates)
        for_purpose = external is not None and self._for_purpose(external, text)
        if for_purpose:
            # "la carta de no infracciones pa renovar la licencia de manejo": the procedure
            # is named by the rest of the message, not by the other agency's words
            said = self.procedure_lexicon.lookup_all(EXTERNAL, text)
            apart = tuple(self.index.search(self.procedure_lexicon.without(said, text)))
            if self._clearly_named(apart, candidates):
                candidates = apart
        best = candidates[0] if candidates else Candidate("", 0.0)
        if external and self._other_agency(external, best, text, for_purpose):
            found["external"] = external
            return Understanding("out_of_scope", None, None, max(p, 0.8), found, candidates)
        unlisted = best.procedure_id and (
            self.index.other_kind(best.procedure_id, text)
            or self.index.other_purpose(best.procedure_id, text)
        )
        if unlisted and self._kind_of_topic(best.procedure_id, unlisted, text):
            unlisted = None  # "los cursos de rcp" to the first-aid course: a topic it covers
        if unlisted:  # "constancia de origen" where the catalogue only has "de residencia",
            # "permiso pa quemar cuetes" where no entry speaks of fireworks
            found["unlisted"] = unlisted
            return Understanding("out_of_scope", None, None, UNSURE, found, candidates)
        if intent in (*SMALL_TALK, "out_of_scope") and p >= t.sure and best.score < t.strong:
            return Understanding(intent, None, None, p, found, candidates)
        lacking, elsewhere = self._topics_left(best, text)
        if not lacking:
            candidates = self._copy_or_register(candidates, text)
            if candidates and candidates[0] != best:
                best = candidates[0]
                lacking, elsewhere = self._topics_left(best, text)
        if lacking:  # "una fosa en el panteón" where the catalogue has no cemetery
            found["unlisted"] = lacking
            return Understanding("out_of_scope", None, None, UNSURE, found, candidates)
        if best.score >= t.procedure or self._clear_lead(candidates, intent, p):
            asked = self._asked(text, words)
            # only a lead over weak matches, another entry covers what the message names, a
            # weak match leaves most of what the message says, and a rare word, unexplained,
            # or the message is most specifically about something the catalogue never
            # mentions and says little of what sets the procedure apart, or all the signs
            # of the match together make a wrong answer likely
            confirm = (
                best.score < t.procedure
                or elsewhere
                or (best.score < t.explain and self._unexplained(best.procedure_id, text))
                or self._off_focus(best.procedure_id, text)
                or self._risky(candidates, ranking, text)
            )
            return self._about_procedure(best, candidates, ranking, asked, found, confirm, text)
        by_topic = self._by_topic(candidates, text, intent, p)
        if by_topic is not None:  # "voy a echar un segundo piso q requisitos": the words
            # match no entry well, but the topic they name is one some entry covers
            asked = self._asked(text, words)
            candidates = (by_topic, *(c for c in candidates if c != by_topic))
            return self._about_procedure(by_topic, candidates, ranking, asked, found, True, text)
        cue = find_aspect(words)  # a follow-up names its aspect outright
        if cue and context.last_procedure_id in self.procedures and _reads_as_follow_up(intent):
            asked = self._asked(text, words) or (cue,)
            return Understanding(
                "ask_procedure", context.last_procedure_id, asked[0], p, found, candidates, asked
            )
        if intent in SMALL_TALK:
            return Understanding(intent, None, None, p, found, candidates)
        if intent == "open_request":
            lacking = self._lacking(text)
            if lacking:  # "la barda del vecino esta a punto de caerse" where no entry takes
                # risk reports: not a report the catalogue can open
                found["unlisted"] = lacking
                return Understanding("out_of_scope", None, None, UNSURE, found, candidates)
            return Understanding("open_request", None, None, p, found, candidates)
        near = tuple(c for c in candidates if c.score >= t.candidate)
        if intent == "ask_procedure" and near:
            asked = self._asked(text, words)
            first = asked[0] if asked else None
            return Understanding("ask_procedure", None, first, near[0].score, found, near, asked)
        return Understanding("out_of_scope", None, None, p, found, candidates)

    def _copy_or_register(
        self, candidates: tuple[Candidate, ...], text: str
    ) -> tuple[Candidate, ...]:
        """Between a copies entry and a registering entry near the top, the one the message
        means: the event happening ("fallecio mi suegra ayer, donde levantamos el acta",
        "nacio mi bebe") is registering it, an act asked for without one ("el acta de
        nacimiento cuanto cuesta", "ocupo otra copia del acta") is a copy."""
        if not candidates:
            return candidates
        first = candidates[0].procedure_id
        if first in self._copies & self._registers:
            return candidates
        words = set(normalize(text).split())
        event = bool(words & EVENT) and not words & GETTING_A_COPY
        if event and first in self._copies:
            wanted = self._registers
        elif not event and first in self._registers and words & {"acta", "actas"}:
            wanted = self._copies
        else:
            return candidates
        near = candidates[1:REGISTRY_REACH]
        chosen = next((c for c in near if c.procedure_id in wanted), None)
        if chosen is None or chosen.score < self.thresholds.candidate:
            return candidates
        rest = tuple(c for c in candidates if c != chosen)
        return (Candidate(chosen.procedure_id, candidates[0].score), *rest)

    def _opinion(self, text: str) -> bool:
        """Whether the message insults or judges the government and asks or reports nothing:
        no question mark, no question word, no wish to report ("ustedes cobran el predial
        bien caro y ni hacen nada"; not "hay un bache y no hacen nada, quiero reportarlo")."""
        if "?" in text or not self.procedure_lexicon.lookup(OPINION, text):
            return False
        words = set(normalize(text).split())
        return not (words & QUESTIONS or words & REPORTING)

    def _asked(self, text: str, words: str) -> tuple[str, ...]:
        """Every aspect asked, in order: the clauses' own when they ask several ("donde se
        saca y cuanto cuesta"), else the one the classifier reads in the whole message
        (`words`, the message prepared)."""
        pieces = clauses(text)
        prepared = [self.intents.prepare(c) for c in pieces] if len(pieces) > 1 else [words]
        several = aspects_asked(prepared)
        if len(several) > 1:
            return tuple(several)
        # the classifier may miss a cue its examples never put that way ("hay q pedir
        # permiso? cuanto"): a strong cue of a clause still says what is asked
        aspect = self.aspects.find(words)
        if aspect is None and several:
            strong = aspects_asked(prepared, weak_cues=False)
            aspect = strong[0] if strong else None
        return (aspect,) if aspect else ()

    def _topics_left(self, best: Candidate, text: str) -> tuple[str | None, bool]:
        """What the best match leaves of the topics the message is about: (the keyword of
        one no entry of the catalogue covers, whether some other entry covers one). Nothing
        when the best match covers every topic the message names; only the second when it
        covers some, or when the message names the best procedure outright. A topic said
        only as what something is for ("pa la beca me piden comprobar q soy de aqui") does
        not count."""
        if not best.procedure_id:
            return None, False
        mentioned = self.topics.mentioned(text)
        about = [m for m in mentioned if not m.for_purpose]
        left = [m for m in about if not self.topics.explains(best.procedure_id, m.topic)]
        if not left:
            return None, False
        lacking = [m.keyword for m in left if not self.topics.covered(m.topic)]
        if len(left) < len(mentioned) or self.index.names(
            best.procedure_id, _without(text, lacking)
        ):
            return None, True  # it explains part of the message: at most ask to confirm
            # (named apart from the lacking topic's own words: "acta" of "levantar el acta
            # de defuncion" does not name the copies of acts)
        return (lacking[0], False) if lacking else (None, True)

    def _lacking(self, text: str) -> str | None:
        """For a report that matched no entry: the keyword of a topic the message is about
        (not as a place or a purpose) that no entry of the catalogue covers, when no topic it
        names is one an entry taking reports covers ("la barda del vecino esta a punto de
        caerse": walls are building permits, and nothing takes risk reports)."""
        about = [m for m in self.topics.mentioned(text) if not m.for_purpose]
        if any(
            self.procedures[e].takes_requests for m in about for e in self.topics.entries(m.topic)
        ):
            return None
        lacking = [m.keyword for m in about if not self.topics.covered(m.topic)]
        return lacking[0] if lacking else None

    def _by_topic(
        self, candidates: tuple[Candidate, ...], text: str, intent: str, p: float
    ) -> Candidate | None:
        """When the message surely asks about or reports something, matches no entry well
        and names a topic of municipal business (not as a place or what a paper is for)
        that entries of the catalogue cover: the best of those entries, to confirm. Not
        when another topic it names is one the catalogue lacks."""
        if intent not in ("ask_procedure", "open_request") or p < self.thresholds.intent:
            return None
        mentioned = [m for m in self.topics.mentioned(text) if not m.for_purpose]
        if not mentioned or any(not self.topics.covered(m.topic) for m in mentioned):
            return None
        covering = set().union(*(self.topics.entries(m.topic) for m in mentioned))
        if intent == "open_request":
            covering = {c for c in covering if self.procedures[c].takes_requests} or covering
        scores = {c.procedure_id: c.score for c in self.index.search(text, len(self.procedures))}
        best = max(sorted(covering), key=lambda c: scores.get(c, 0.0))
        return Candidate(best, max(scores.get(best, 0.0), self.thresholds.candidate))

    def _kind_of_topic(self, procedure_id: str, word: str, text: str) -> bool:
        """Whether `word`, an unlisted kind or purpose, is part of a topic keyword the message
        says and the procedure's entry covers: "platica de novios" to the pre-marriage talk,
        "curso de rcp" to the first-aid course, though neither entry says the word; not
        when the entry names another kind of the same thing ("acta de nacimiento" against
        "acta de defuncion")."""
        stemmed = stem(word)
        return any(
            stemmed in {stem(w) for w in normalize(m.keyword).split()}
            and self.topics.explains(procedure_id, m.topic)
            and not self.topics.names_another_kind(procedure_id, m.topic, m.keyword)
            for m in self.topics.mentioned(text)
        )

    def _unexplained(self, procedure_id: str, text: str) -> bool:
        share, missing = self.index.explained(procedure_id, text)
        return share < self.thresholds.explained and bool(missing)

    def _off_focus(self, procedure_id: str, text: str) -> bool:
        return self.index.distinctive(procedure_id, text) < self.thresholds.distinctive and bool(
            self.index.focus_elsewhere(procedure_id, text)
        )

    def signs(self, text: str, result: Understanding) -> Signs:
        """What the answer-risk model reads of `result`, the understanding of `text`."""
        return self._signs(
            result.candidates, self.intents.ranking(self.intents.prepare(text)), text
        )

    def _signs(
        self, candidates: tuple[Candidate, ...], ranking: list[tuple[str, float]], text: str
    ) -> Signs:
        best = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        return Signs(
            score=best.score,
            margin=best.score - runner_up,
            explained=self.index.explained(best.procedure_id, text)[0],
            distinctive=self.index.distinctive(best.procedure_id, text),
            focus_elsewhere=float(bool(self.index.focus_elsewhere(best.procedure_id, text))),
            out_of_scope=dict(ranking).get("out_of_scope", 0.0),
        )

    def _risky(
        self, candidates: tuple[Candidate, ...], ranking: list[tuple[str, float]], text: str
    ) -> bool:
        return self.risk is not None and self.risk.too_risky(self._signs(candidates, ranking, text))

    def _clear_lead(self, candidates: tuple[Candidate, ...], intent: str, p: float) -> bool:
        """A weaker match still names the procedure when the message surely asks about or
        reports something and no other procedure comes close ("la sesion de terapia pa mi
        rodilla en el dif cuanto sale": many words the catalogue does not use)."""
        t = self.thresholds
        if intent not in ("ask_procedure", "open_request") or p < t.intent or not candidates:
            return False
        if (
            intent == "open_request"
            and not self.procedures[candidates[0].procedure_id].takes_requests
        ):
            return False
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        return candidates[0].score >= t.lead and candidates[0].score - runner_up >= t.margin

    def _other_agency(self, external: str, best: Candidate, text: str, for_purpose: bool) -> bool:
        """Whether a procedure other agencies handle is what the message is about: not when
        the catalogue names a procedure that way ("licencia de conducir" where a municipality
        issues it), nor when it strongly matches a procedure for other reasons
        ("constancia de residencia para el IMSS"), nor when a catalogue procedure matches and
        the other agency's procedure is only what the citizen lacks, needs it for or had seized
        ("a los que no tienen INE", "me la piden pa la visa", "me quitaron la licencia de
        conducir"). `for_purpose`: what `_for_purpose` says of this message."""
        if not best.procedure_id:
            return True
        if self.index.named_in_title(best.procedure_id, external):
            return False
        if (
            ASKER & set(self.procedure_lexicon.following(external, text, 2))
            and len(self.procedure_lexicon.lookup_all(EXTERNAL, text)) == 1
        ):
            return False  # "el notario dice q hay q pagar un impuesto al municipio": the
            # other agency only asks, whatever the catalogue match
        if best.score >= self.thresholds.procedure:
            before = self.procedure_lexicon.preceding(external, text, 3)
            if SEIZED & set(before) or self._negated(before, best):
                return False
            if ASKER & set(self.procedure_lexicon.following(external, text, 2)):
                return False
            owned = _owned_by(before)
            if owned:
                return owned not in COPY
            if for_purpose and self._named_apart(best, external, text):
                return False
        strong_elsewhere = (
            best.score >= self.thresholds.strong
            and not self._done_to(external, best, text)
            and not self.index.in_titles(best.procedure_id, external)
            and self._named_apart(best, external, text, self.thresholds.strong)
        )
        return not strong_elsewhere

    def _done_to(self, external: str, best: Candidate, text: str) -> bool:
        """Whether the other agency's business is what is done to the catalogue's paper:
        "como apostillo mi acta" asks for the apostille, not the copy of the act."""
        after = [w for w in self.procedure_lexicon.following(external, text, 3) if w not in OWN]
        return bool(after) and self.index.in_titles(best.procedure_id, after[0])

    def _negated(self, before: list[str], best: Candidate) -> bool:
        """Whether a negation in `before` says what the citizen lacks ("no tengo INE"), not
        a document's name ("carta de no adeudo del SAT")."""
        for at, word in enumerate(before):
            named = at + 1 < len(before) and self.index.in_titles(best.procedure_id, before[at + 1])
            if word in NEGATION and not named:
                return True
        return False

    def _clearly_named(
        self, apart: tuple[Candidate, ...], candidates: tuple[Candidate, ...]
    ) -> bool:
        """Whether the message without the other agency's words names a procedure well, well
        ahead of the next one, and one the whole message already matched well."""
        t = self.thresholds
        if not apart or apart[0].score < t.procedure:
            return False
        runner_up = apart[1].score if len(apart) > 1 else 0.0
        before = {c.procedure_id: c.score for c in candidates[:3]}
        return (
            apart[0].score - runner_up >= t.margin
            and before.get(apart[0].procedure_id, 0.0) >= t.procedure
        )

    def _for_purpose(self, external: str, text: str) -> bool:
        """Whether the other agency's business is only what the message wants something
        for ("pa sacar la licencia de manejo"), and no other agency is named before that."""
        before = _content(self.procedure_lexicon.preceding(external, text, 3))
        at = next((i for i in (-1, -2) if -i <= len(before) and before[i] in PURPOSE), None)
        if at is None or (-at < len(before) and before[at - 1] in PERMITS):
            return False  # "permiso pa portar una pistola" asks for that permit
        return not self._external_before_purpose(text)

    def _external_before_purpose(self, text: str) -> bool:
        """Whether another agency's business is named before the first "para"/"pa" too:
        "como me registro en el SAT pa sacar el RFC" asks about the SAT throughout."""
        words = normalize(text).split()
        first = next((i for i, w in enumerate(words) if w in PURPOSE), len(words))
        return bool(self.procedure_lexicon.lookup(EXTERNAL, " ".join(words[:first])))

    def _named_apart(
        self, best: Candidate, external: str, text: str, enough: float | None = None
    ) -> bool:
        """Whether the message still names the best procedure (from score `enough`) without
        the words of any other agency's procedure it says: "q papeles piden pa la licencia
        de manejo" matched "manejo de extintores" only through them, and "donde pago mi
        recibo de luz de la cfe" matches "pago del recibo de agua" only through "recibo"."""
        said = self.procedure_lexicon.lookup_all(EXTERNAL, text) or [external]
        rest = self.index.search(self.procedure_lexicon.without(said, text), limit=1)
        return (
            bool(rest)
            and rest[0].procedure_id == best.procedure_id
            and rest[0].score >= (self.thresholds.procedure if enough is None else enough)
        )

    def _about_procedure(
        self,
        best: Candidate,
        candidates: tuple[Candidate, ...],
        ranking: list[tuple[str, float]],
        asked: tuple[str, ...],
        found: dict[str, str],
        confirm: bool,
        text: str = "",
    ) -> Understanding:
        probabilities = dict(ranking)
        procedure = self.procedures[best.procedure_id]
        asks = probabilities.get("ask_procedure", 0)
        reports = probabilities.get("open_request", 0) > asks or asks < ASK_SURE
        if procedure.takes_requests and _where_it_is(asked, probabilities, text):
            asked = ()  # "hay un hundimiento x donde pasan los camiones": where the problem
            # is, in a message that surely reports it, not where a procedure is done
        if procedure.takes_requests and reports and not asked:
            return Understanding(
                "open_request", best.procedure_id, None, best.score, found, candidates, (), confirm
            )
        first = asked[0] if asked else None
        return Understanding(
            "ask_procedure", best.procedure_id, first, best.score, found, candidates, asked, confirm
        )


def _owned_by(before: list[str]) -> str:
    """The word an other agency's name depends on, when the words `before` it end in "de",
    "del" or "de la": "multa" of "la multa del SAT", "copia" of "copia de la INE"; empty
    otherwise ("copia de mi cédula" is the citizen's, not the agency's)."""
    if before[-1:] and before[-1] in OWNER:
        return before[-2] if len(before) > 1 else ""
    if before[-2:-1] == ["de"] and before[-1] in ("la", "las", "los", "el"):
        return before[-3] if len(before) > 2 else ""
    return ""


def _where_it_is(asked: tuple[str, ...], probabilities: dict[str, float], text: str) -> bool:
    """Whether a "donde" read as the only question of a message the intent classifier
    surely takes for a report says where the problem is: a "donde" well inside the
    sentence ("una barda sobre la banqueta donde pasan los niños"), not one that opens it
    ("donde denuncio a un taller q tira aceite")."""
    if asked != ("location",) or probabilities.get("open_request", 0) < REPORT_SURE:
        return False
    words = normalize(text).split()
    return "donde" in words and words.index("donde") >= INSIDE


def _without(text: str, keywords: list[str]) -> str:
    """`text` (normalised) without the words of `keywords` (in any stemmed form)."""
    said = {stem(w) for k in keywords for w in normalize(k).split()}
    return " ".join(w for w in normalize(text).split() if stem(w) not in said)


def _content(words: list[str]) -> list[str]:
    """`words` without articles: "pa sacar la licencia de manejo" is for the licence."""
    return [w for w in words if w not in ARTICLES]


def _reads_as_follow_up(intent: str) -> bool:
    return intent in ("ask_procedure", "out_of_scope", "open_request")


def _today() -> date:
    return utcnow().astimezone(ZoneInfo("America/Mexico_City")).date()
