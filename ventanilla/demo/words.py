"""What the synthetic citizens and staff write (Spanish, as in a real history)."""

DESCRIPTIONS = {
    "bache": (
        "Bache grande frente a mi casa, ya se ponchó un carro.",
        "Hay un hoyo en el pavimento a media calle, es peligroso de noche.",
        "El bache que taparon volvió a abrirse con las lluvias.",
    ),
    "alumbrado": (
        "La lámpara del poste está apagada desde hace una semana.",
        "Toda la cuadra está a oscuras, no sirven las luminarias.",
        "La luz del parque prende y apaga toda la noche.",
    ),
    "fuga": (
        "Se está tirando el agua en la banqueta desde ayer.",
        "Fuga de agua en la toma de la esquina, sale mucha agua.",
        "Brota agua limpia del pavimento frente al número 45.",
    ),
    "basura": (
        "No pasó el camión de la basura en toda la semana.",
        "Se acumula la basura en la esquina y huele muy mal.",
        "El camión se salta nuestra calle desde hace quince días.",
    ),
    "arbol": (
        "Un árbol tiene ramas sobre los cables de luz.",
        "Árbol seco a punto de caerse sobre la banqueta.",
        "Las raíces del árbol levantaron toda la banqueta.",
    ),
    "drenaje": (
        "La coladera está tapada y se inunda la calle.",
        "Sale agua negra del registro del drenaje.",
        "Huele a drenaje en toda la cuadra.",
    ),
}
GENERIC = (
    "Solicito el servicio, gracias.",
    "Necesito que me apoyen con este trámite.",
    "Es urgente, por favor.",
    "Ya lo había reportado antes y no han venido.",
)
STREETS = (
    "Hidalgo",
    "Morelos",
    "Juárez",
    "Allende",
    "Aldama",
    "Insurgentes",
    "Reforma",
    "Independencia",
    "Guerrero",
    "Zaragoza",
    "5 de Mayo",
    "Las Flores",
    "Los Pinos",
)
NEIGHBOURHOODS = (
    "Centro",
    "San Juan",
    "El Mirador",
    "Las Acacias",
    "La Estación",
    "Santa Fe",
    "Del Valle",
    "Lomas del Sur",
    "El Rosario",
    "Jardines",
)

NOTES_PROGRESS = (
    "Se turnó a la cuadrilla correspondiente.",
    "Se programó la visita.",
    "En revisión por el área.",
    "",
)
NOTES_RESOLVED = (
    "Atendido. Gracias por su reporte.",
    "Se realizó el trabajo solicitado.",
    "Quedó resuelto en la visita de hoy.",
    "Trámite concluido.",
)
NOTES_REJECTED = (
    "No corresponde al municipio; se canalizó a la instancia estatal.",
    "Falta información para atenderlo; puede volver a reportarlo.",
    "Ya existe un reporte abierto del mismo lugar.",
)
NOTE_REOPENED = "El ciudadano informa que el problema continúa."

REASONS = (
    "Quiero hablar con un asesor",
    "quiero hablar con una persona",
    "no me sirvió la respuesta",
    "necesito ayuda con mi trámite",
    "me pueden atender por favor",
    "tengo una queja",
)

COMMENTS_GOOD = (
    "Muy rápido, gracias.",
    "Excelente atención.",
    "Me atendieron muy bien.",
    "Todo claro y sin filas.",
    "Gracias por resolverlo tan pronto.",
)
COMMENTS_MIDDLE = (
    "Se resolvió, pero tardaron.",
    "Bien, aunque tuve que insistir.",
    "Regular.",
    "La información podría ser más clara.",
)
COMMENTS_BAD = (
    "Tardaron demasiado.",
    "Nadie vino a revisar.",
    "Me dieron vueltas.",
    "Sigue igual que antes.",
    "Pésimo servicio, no contestan.",
    "Tuve que reportarlo tres veces.",
)

DIMENSIONS = ("tiempo", "trato", "claridad")


def description_kind(procedure_id: str) -> str | None:
    for word, kind in (("bache", "bache"), ("alumbrado", "alumbrado"), ("lumin", "alumbrado"),
                       ("fuga", "fuga"), ("basura", "basura"),
                       ("arbol", "arbol"), ("poda", "arbol"), ("drenaje", "drenaje"),
                       ("coladera", "drenaje")):  # fmt: skip
        if word in procedure_id:
            return kind
    return None
