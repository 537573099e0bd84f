//! S3 IAM actions: every action name that AWS defines for the `s3` service prefix, and a bit set
//! with one bit per action.
//!
//! The names follow the AWS Service Authorization Reference page "Actions, resources, and
//! condition keys for Amazon S3". A policy naming an action outside this list is rejected, so a
//! misspelled action cannot silently match nothing.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

macro_rules! s3_actions {
    ($($variant:ident => $name:literal,)*) => {
        /// An S3 IAM action. Each variant is the action of the same name with the `s3:` prefix,
        /// such as [`Action::GetObject`] for `s3:GetObject`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Action {
            /// Every action, in alphabetical order of its name.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// Returns the IAM action name, such as `s3:GetObject`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

s3_actions! {
    AbortMultipartUpload => "s3:AbortMultipartUpload",
    AllowVendedLogDeliveryForResource => "s3:AllowVendedLogDeliveryForResource",
    AssociateAccessGrantsIdentityCenter => "s3:AssociateAccessGrantsIdentityCenter",
    BypassGovernanceRetention => "s3:BypassGovernanceRetention",
    CreateAccessGrant => "s3:CreateAccessGrant",
    CreateAccessGrantsInstance => "s3:CreateAccessGrantsInstance",
    CreateAccessGrantsLocation => "s3:CreateAccessGrantsLocation",
    CreateAccessPoint => "s3:CreateAccessPoint",
    CreateAccessPointForObjectLambda => "s3:CreateAccessPointForObjectLambda",
    CreateBucket => "s3:CreateBucket",
    CreateBucketMetadataTableConfiguration => "s3:CreateBucketMetadataTableConfiguration",
    CreateJob => "s3:CreateJob",
    CreateMultiRegionAccessPoint => "s3:CreateMultiRegionAccessPoint",
    CreateStorageLensGroup => "s3:CreateStorageLensGroup",
    DeleteAccessGrant => "s3:DeleteAccessGrant",
    DeleteAccessGrantsInstance => "s3:DeleteAccessGrantsInstance",
    DeleteAccessGrantsInstanceResourcePolicy => "s3:DeleteAccessGrantsInstanceResourcePolicy",
    DeleteAccessGrantsLocation => "s3:DeleteAccessGrantsLocation",
    DeleteAccessPoint => "s3:DeleteAccessPoint",
    DeleteAccessPointForObjectLambda => "s3:DeleteAccessPointForObjectLambda",
    DeleteAccessPointPolicy => "s3:DeleteAccessPointPolicy",
    DeleteAccessPointPolicyForObjectLambda => "s3:DeleteAccessPointPolicyForObjectLambda",
    DeleteBucket => "s3:DeleteBucket",
    DeleteBucketMetadataTableConfiguration => "s3:DeleteBucketMetadataTableConfiguration",
    DeleteBucketPolicy => "s3:DeleteBucketPolicy",
    DeleteBucketWebsite => "s3:DeleteBucketWebsite",
    DeleteJobTagging => "s3:DeleteJobTagging",
    DeleteMultiRegionAccessPoint => "s3:DeleteMultiRegionAccessPoint",
    DeleteObject => "s3:DeleteObject",
    DeleteObjectAnnotation => "s3:DeleteObjectAnnotation",
    DeleteObjectTagging => "s3:DeleteObjectTagging",
    DeleteObjectVersion => "s3:DeleteObjectVersion",
    DeleteObjectVersionAnnotation => "s3:DeleteObjectVersionAnnotation",
    DeleteObjectVersionTagging => "s3:DeleteObjectVersionTagging",
    DeleteStorageLensConfiguration => "s3:DeleteStorageLensConfiguration",
    DeleteStorageLensConfigurationTagging => "s3:DeleteStorageLensConfigurationTagging",
    DeleteStorageLensGroup => "s3:DeleteStorageLensGroup",
    DescribeJob => "s3:DescribeJob",
    DescribeMultiRegionAccessPointOperation => "s3:DescribeMultiRegionAccessPointOperation",
    DissociateAccessGrantsIdentityCenter => "s3:DissociateAccessGrantsIdentityCenter",
    GetAccelerateConfiguration => "s3:GetAccelerateConfiguration",
    GetAccessGrant => "s3:GetAccessGrant",
    GetAccessGrantsInstance => "s3:GetAccessGrantsInstance",
    GetAccessGrantsInstanceForPrefix => "s3:GetAccessGrantsInstanceForPrefix",
    GetAccessGrantsInstanceResourcePolicy => "s3:GetAccessGrantsInstanceResourcePolicy",
    GetAccessGrantsLocation => "s3:GetAccessGrantsLocation",
    GetAccessPoint => "s3:GetAccessPoint",
    GetAccessPointConfigurationForObjectLambda => "s3:GetAccessPointConfigurationForObjectLambda",
    GetAccessPointForObjectLambda => "s3:GetAccessPointForObjectLambda",
    GetAccessPointPolicy => "s3:GetAccessPointPolicy",
    GetAccessPointPolicyForObjectLambda => "s3:GetAccessPointPolicyForObjectLambda",
    GetAccessPointPolicyStatus => "s3:GetAccessPointPolicyStatus",
    GetAccessPointPolicyStatusForObjectLambda => "s3:GetAccessPointPolicyStatusForObjectLambda",
    GetAccountPublicAccessBlock => "s3:GetAccountPublicAccessBlock",
    GetAnalyticsConfiguration => "s3:GetAnalyticsConfiguration",
    GetBucketAbac => "s3:GetBucketAbac",
    GetBucketAcl => "s3:GetBucketAcl",
    GetBucketCORS => "s3:GetBucketCORS",
    GetBucketLocation => "s3:GetBucketLocation",
    GetBucketLogging => "s3:GetBucketLogging",
    GetBucketMetadataTableConfiguration => "s3:GetBucketMetadataTableConfiguration",
    GetBucketNotification => "s3:GetBucketNotification",
    GetBucketObjectLockConfiguration => "s3:GetBucketObjectLockConfiguration",
    GetBucketOwnershipControls => "s3:GetBucketOwnershipControls",
    GetBucketPolicy => "s3:GetBucketPolicy",
    GetBucketPolicyStatus => "s3:GetBucketPolicyStatus",
    GetBucketPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
    GetBucketRequestPayment => "s3:GetBucketRequestPayment",
    GetBucketTagging => "s3:GetBucketTagging",
    GetBucketVersioning => "s3:GetBucketVersioning",
    GetBucketWebsite => "s3:GetBucketWebsite",
    GetDataAccess => "s3:GetDataAccess",
    GetEncryptionConfiguration => "s3:GetEncryptionConfiguration",
    GetIntelligentTieringConfiguration => "s3:GetIntelligentTieringConfiguration",
    GetInventoryConfiguration => "s3:GetInventoryConfiguration",
    GetJobTagging => "s3:GetJobTagging",
    GetLifecycleConfiguration => "s3:GetLifecycleConfiguration",
    GetMetricsConfiguration => "s3:GetMetricsConfiguration",
    GetMultiRegionAccessPoint => "s3:GetMultiRegionAccessPoint",
    GetMultiRegionAccessPointPolicy => "s3:GetMultiRegionAccessPointPolicy",
    GetMultiRegionAccessPointPolicyStatus => "s3:GetMultiRegionAccessPointPolicyStatus",
    GetMultiRegionAccessPointRoutes => "s3:GetMultiRegionAccessPointRoutes",
    GetObject => "s3:GetObject",
    GetObjectAcl => "s3:GetObjectAcl",
    GetObjectAnnotation => "s3:GetObjectAnnotation",
    GetObjectAttributes => "s3:GetObjectAttributes",
    GetObjectLegalHold => "s3:GetObjectLegalHold",
    GetObjectRetention => "s3:GetObjectRetention",
    GetObjectTagging => "s3:GetObjectTagging",
    GetObjectTorrent => "s3:GetObjectTorrent",
    GetObjectVersion => "s3:GetObjectVersion",
    GetObjectVersionAcl => "s3:GetObjectVersionAcl",
    GetObjectVersionAnnotation => "s3:GetObjectVersionAnnotation",
    GetObjectVersionAnnotationForReplication => "s3:GetObjectVersionAnnotationForReplication",
    GetObjectVersionAttributes => "s3:GetObjectVersionAttributes",
    GetObjectVersionForReplication => "s3:GetObjectVersionForReplication",
    GetObjectVersionTagging => "s3:GetObjectVersionTagging",
    GetObjectVersionTorrent => "s3:GetObjectVersionTorrent",
    GetReplicationConfiguration => "s3:GetReplicationConfiguration",
    GetStorageLensConfiguration => "s3:GetStorageLensConfiguration",
    GetStorageLensConfigurationTagging => "s3:GetStorageLensConfigurationTagging",
    GetStorageLensDashboard => "s3:GetStorageLensDashboard",
    GetStorageLensGroup => "s3:GetStorageLensGroup",
    InitiateReplication => "s3:InitiateReplication",
    ListAccessGrants => "s3:ListAccessGrants",
    ListAccessGrantsInstances => "s3:ListAccessGrantsInstances",
    ListAccessGrantsLocations => "s3:ListAccessGrantsLocations",
    ListAccessPoints => "s3:ListAccessPoints",
    ListAccessPointsForObjectLambda => "s3:ListAccessPointsForObjectLambda",
    ListAllMyBuckets => "s3:ListAllMyBuckets",
    ListBucket => "s3:ListBucket",
    ListBucketMultipartUploads => "s3:ListBucketMultipartUploads",
    ListBucketVersions => "s3:ListBucketVersions",
    ListCallerAccessGrants => "s3:ListCallerAccessGrants",
    ListJobs => "s3:ListJobs",
    ListMultiRegionAccessPoints => "s3:ListMultiRegionAccessPoints",
    ListMultipartUploadParts => "s3:ListMultipartUploadParts",
    ListObjectAnnotations => "s3:ListObjectAnnotations",
    ListObjectVersionAnnotations => "s3:ListObjectVersionAnnotations",
    ListStorageLensConfigurations => "s3:ListStorageLensConfigurations",
    ListStorageLensGroups => "s3:ListStorageLensGroups",
    ListTagsForResource => "s3:ListTagsForResource",
    ObjectOwnerOverrideToBucketOwner => "s3:ObjectOwnerOverrideToBucketOwner",
    PauseReplication => "s3:PauseReplication",
    PutAccelerateConfiguration => "s3:PutAccelerateConfiguration",
    PutAccessGrantsInstanceResourcePolicy => "s3:PutAccessGrantsInstanceResourcePolicy",
    PutAccessPointConfigurationForObjectLambda => "s3:PutAccessPointConfigurationForObjectLambda",
    PutAccessPointPolicy => "s3:PutAccessPointPolicy",
    PutAccessPointPolicyForObjectLambda => "s3:PutAccessPointPolicyForObjectLambda",
    PutAccessPointPublicAccessBlock => "s3:PutAccessPointPublicAccessBlock",
    PutAccountPublicAccessBlock => "s3:PutAccountPublicAccessBlock",
    PutAnalyticsConfiguration => "s3:PutAnalyticsConfiguration",
    PutBucketAbac => "s3:PutBucketAbac",
    PutBucketAcl => "s3:PutBucketAcl",
    PutBucketCORS => "s3:PutBucketCORS",
    PutBucketLogging => "s3:PutBucketLogging",
    PutBucketNotification => "s3:PutBucketNotification",
    PutBucketObjectLockConfiguration => "s3:PutBucketObjectLockConfiguration",
    PutBucketOwnershipControls => "s3:PutBucketOwnershipControls",
    PutBucketPolicy => "s3:PutBucketPolicy",
    PutBucketPublicAccessBlock => "s3:PutBucketPublicAccessBlock",
    PutBucketRequestPayment => "s3:PutBucketRequestPayment",
    PutBucketTagging => "s3:PutBucketTagging",
    PutBucketVersioning => "s3:PutBucketVersioning",
    PutBucketWebsite => "s3:PutBucketWebsite",
    PutEncryptionConfiguration => "s3:PutEncryptionConfiguration",
    PutIntelligentTieringConfiguration => "s3:PutIntelligentTieringConfiguration",
    PutInventoryConfiguration => "s3:PutInventoryConfiguration",
    PutJobTagging => "s3:PutJobTagging",
    PutLifecycleConfiguration => "s3:PutLifecycleConfiguration",
    PutMetricsConfiguration => "s3:PutMetricsConfiguration",
    PutMultiRegionAccessPointPolicy => "s3:PutMultiRegionAccessPointPolicy",
    PutObject => "s3:PutObject",
    PutObjectAcl => "s3:PutObjectAcl",
    PutObjectAnnotation => "s3:PutObjectAnnotation",
    PutObjectLegalHold => "s3:PutObjectLegalHold",
    PutObjectRetention => "s3:PutObjectRetention",
    PutObjectTagging => "s3:PutObjectTagging",
    PutObjectVersionAcl => "s3:PutObjectVersionAcl",
    PutObjectVersionAnnotation => "s3:PutObjectVersionAnnotation",
    PutObjectVersionTagging => "s3:PutObjectVersionTagging",
    PutReplicationConfiguration => "s3:PutReplicationConfiguration",
    PutStorageLensConfiguration => "s3:PutStorageLensConfiguration",
    PutStorageLensConfigurationTagging => "s3:PutStorageLensConfigurationTagging",
    ReplicateDelete => "s3:ReplicateDelete",
    ReplicateObject => "s3:ReplicateObject",
    ReplicateObjectAnnotation => "s3:ReplicateObjectAnnotation",
    ReplicateTags => "s3:ReplicateTags",
    RestoreObject => "s3:RestoreObject",
    SubmitMultiRegionAccessPointRoutes => "s3:SubmitMultiRegionAccessPointRoutes",
    TagResource => "s3:TagResource",
    UntagResource => "s3:UntagResource",
    UpdateAccessGrantsLocation => "s3:UpdateAccessGrantsLocation",
    UpdateBucketMetadataAnnotationTableConfiguration => "s3:UpdateBucketMetadataAnnotationTableConfiguration",
    UpdateBucketMetadataInventoryTableConfiguration => "s3:UpdateBucketMetadataInventoryTableConfiguration",
    UpdateBucketMetadataJournalTableConfiguration => "s3:UpdateBucketMetadataJournalTableConfiguration",
    UpdateJobPriority => "s3:UpdateJobPriority",
    UpdateJobStatus => "s3:UpdateJobStatus",
    UpdateObjectEncryption => "s3:UpdateObjectEncryption",
    UpdateStorageLensGroup => "s3:UpdateStorageLensGroup",
}

/// Number of actions, and so the number of bits an [`ActionSet`] uses.
pub const ACTION_COUNT: usize = Action::ALL.len();

const ACTION_SET_WORDS: usize = 3;
const _: () = assert!(ACTION_COUNT <= ACTION_SET_WORDS * 64);

/// Lowercased action names, because IAM compares action names case-insensitively.
static ACTIONS_BY_LOWERCASE_NAME: LazyLock<HashMap<String, Action>> = LazyLock::new(|| {
    Action::ALL
        .iter()
        .map(|action| (action.name().to_ascii_lowercase(), *action))
        .collect()
});

impl Action {
    /// Looks an action up by its IAM name, ignoring ASCII case as IAM does.
    pub fn from_name(name: &str) -> Option<Action> {
        ACTIONS_BY_LOWERCASE_NAME
            .get(&name.to_ascii_lowercase())
            .copied()
    }

    /// Returns the action's position in [`Action::ALL`], which is also its bit in an
    /// [`ActionSet`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Action {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The error returned when a string names no S3 action.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown S3 action \"{name}\": expected an action name such as s3:GetObject")]
pub struct UnknownActionError {
    /// The rejected name.
    pub name: String,
}

impl FromStr for Action {
    type Err = UnknownActionError;

    fn from_str(name: &str) -> Result<Action, UnknownActionError> {
        Action::from_name(name).ok_or_else(|| UnknownActionError {
            name: name.to_owned(),
        })
    }
}

/// A set of actions, stored as one bit per action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ActionSet {
    words: [u64; ACTION_SET_WORDS],
}

impl ActionSet {
    /// Returns the set that contains no action.
    pub fn empty() -> ActionSet {
        ActionSet::default()
    }

    /// Returns the set that contains every action.
    pub fn all() -> ActionSet {
        Action::ALL.iter().copied().collect()
    }

    /// Adds one action.
    pub fn insert(&mut self, action: Action) {
        let index = action.index();
        self.words[index / 64] |= 1 << (index % 64);
    }

    /// Returns true when the set contains `action`.
    pub fn contains(&self, action: Action) -> bool {
        let index = action.index();
        self.words[index / 64] & (1 << (index % 64)) != 0
    }

    /// Adds every action of `other`.
    pub fn union_with(&mut self, other: &ActionSet) {
        for (word, other_word) in self.words.iter_mut().zip(other.words) {
            *word |= other_word;
        }
    }

    /// Returns true when the set contains no action.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|word| *word == 0)
    }

    /// Returns the number of actions in the set.
    pub fn len(&self) -> usize {
        self.words
            .iter()
            .map(|word| word.count_ones() as usize)
            .sum()
    }

    /// Iterates over the actions in the set, in the order of [`Action::ALL`].
    pub fn iter(&self) -> impl Iterator<Item = Action> + '_ {
        Action::ALL
            .iter()
            .copied()
            .filter(|action| self.contains(*action))
    }
}

impl FromIterator<Action> for ActionSet {
    fn from_iter<I: IntoIterator<Item = Action>>(actions: I) -> ActionSet {
        let mut set = ActionSet::empty();
        for action in actions {
            set.insert(action);
        }
        set
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
        }
    }

    #[test]
    fn lookup_ignores_case() {
        assert_eq!(Action::from_name("S3:getobject"), Some(Action::GetObject));
    }

    #[test]
    fn unknown_name_is_rejected() {
        assert_eq!(Action::from_name("s3:GetObjects"), None);
    }

    #[test]
    fn all_is_sorted_and_indexed() {
        for (index, action) in Action::ALL.iter().enumerate() {
            assert_eq!(action.index(), index);
        }
        assert!(
            Action::ALL
                .windows(2)
                .all(|pair| pair[0].name() < pair[1].name())
        );
    }

    #[test]
    fn action_set_membership() {
        let set: ActionSet = [Action::GetObject, Action::UpdateStorageLensGroup]
            .into_iter()
            .collect();
        assert!(set.contains(Action::GetObject));
        assert!(set.contains(Action::UpdateStorageLensGroup));
        assert!(!set.contains(Action::PutObject));
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn full_set_has_every_action() {
        assert_eq!(ActionSet::all().len(), ACTION_COUNT);
    }
}
