export { buildReportHtml, esc, type ReportFigure, type ReportOptions } from './html.js';
export { readEvalReport, parseEvalReport, timeOf, type ReportInput, type ReportCase, type ReportTimeline, type SuspectEvidence, type TimeValue } from './read.js';
export { table1, cellOf, methodsOf, protocolsOf, isAiops22, TABLE1_COLUMNS, PAPER_AIOPS22, PAPER_PROTOCOL, type Table1, type Table1Column, type Cell } from './table1.js';
export { writeReport } from './write.js';
