export function NotAvailable({ title }: { title: string }): React.JSX.Element {
  return (
    <section aria-labelledby="na-title">
      <h1 id="na-title">{title}</h1>
      <p className="muted">Not available yet in this version of Tessera.</p>
    </section>
  );
}
