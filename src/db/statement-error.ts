/** A statement PostgreSQL refused, as its error reports it. Below capture and shadow: both read it. */
export interface StatementError {
  message: string;
  sqlState?: string;
  /** 1-based character position in the statement, when PostgreSQL gives one. */
  position?: number;
  detail?: string;
  hint?: string;
}
