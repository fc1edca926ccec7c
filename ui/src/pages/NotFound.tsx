import { Link } from 'react-router'
import { EmptyState } from '../components/ui'

export function NotFound() {
  return (
    <div className="page">
      <EmptyState title="No page here" action={<Link className="btn" to="/">Go to the overview</Link>}>
        <p>The address does not match any page of the Latchkey UI.</p>
      </EmptyState>
    </div>
  )
}
